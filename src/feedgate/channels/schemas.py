from feedgate.kit.schemas import Desc, ExternalId, RequestBody


class ChannelCreate(RequestBody):
    desc: Desc
    external_id: ExternalId = ""


class ChannelUpdate(RequestBody):
    desc: Desc | None = None
    external_id: ExternalId | None = None
