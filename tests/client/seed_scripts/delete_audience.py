import requests

from api_auth import APICredentials, APIParams

audience_id = 'Hak3zjnPLSW5o0j8GMpzRMsa' # Replace with the ID for the desired audience.

class DeleteAudience:
    def __init__(self):
        self.host = "https://services.uplynk.com"

    def run(self):
        """
        Deletes an audience.
        """
        self._delete_audience()

    def _delete_audience(self):
        url = "{}{}{}".format(self.host, "/api/v4/audiences/", audience_id)

        response = requests.delete(
            url, params=APIParams(APICredentials()).get_params({})
        )

        print(response.json())

DeleteAudience().run()
