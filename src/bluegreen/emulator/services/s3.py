"""Amazon S3: what moto serves, with the refusals S3 makes and moto does not.

- DeleteObjects takes at most 1,000 keys (S3 API reference, DeleteObjects: "The request
  can contain a list of up to 1,000 keys that you want to delete"); more is refused with
  ``MalformedXML`` (HTTP 400), "The XML you provided was not well-formed or did not
  validate against our published schema" -- S3's answer quoted in aws/aws-sdk-java#1293,
  boto/boto3#3297 and aws/aws-sdk#602. moto deletes them all.

S3 speaks REST-XML: the dispatcher hands the request's body as it came
(``params["Body"]``, :func:`bluegreen.emulator.core._parse`).
"""

from __future__ import annotations

from xml.etree import ElementTree

from bluegreen.emulator.service import PASS, Call, Params, Result, Service, ServiceError, operation

DELETE_OBJECTS_MAX = 1000
"""Keys one DeleteObjects takes at most (module docstring)."""

_MALFORMED = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


class S3(Service):
    name = "s3"

    @operation("DeleteObjects")
    def delete_objects(self, params: Params, call: Call) -> Result:
        body = params.get("Body") or b""
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as exc:
            raise ServiceError("MalformedXML", _MALFORMED) from exc
        objects = [child for child in root if child.tag.rsplit("}", 1)[-1] == "Object"]
        if len(objects) > DELETE_OBJECTS_MAX:
            raise ServiceError("MalformedXML", _MALFORMED)
        result: Result = PASS
        return result
