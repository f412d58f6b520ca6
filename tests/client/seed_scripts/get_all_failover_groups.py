import requests

from api_auth import APICredentials, APIParams


class FailoverGroups:
    def __init__(self):
        self.host = "https://services.uplynk.com"
    def run(self):
        self._get_failover_groups()
    def _get_failover_groups(self):
        url = "{}{}".format(self.host, "/api/v4/failover-groups")
        headers = {'Content-Type': 'application/json'}
        response = requests.get(
            url, params=APIParams(APICredentials()).get_params({}), headers=headers
        )
        print(response.json())
FailoverGroups().run()
