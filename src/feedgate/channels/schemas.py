from feedgate.kit.schemas import Desc, ExternalId, PatchBody, RequestBody


class ChannelCreate(RequestBody):
    desc: Desc
    external_id: ExternalId = ""


class ChannelUpdate(PatchBody):
    CLEARABLE = {"external_id": ""}

    desc: Desc | None = None
    external_id: ExternalId | None = None
