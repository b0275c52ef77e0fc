"""What bluegreen.emulator.motofix changes in moto only for speed gives the same answers.

- moto's EC2 instance type offerings are read when first asked for, not when moto's EC2
  models are imported: DescribeInstanceTypeOfferings answers with what moto's files hold;
- every botocore data file is parsed once per process: the emulator's clients, moto's
  region questions and moto's serializers share one loader.
"""

from __future__ import annotations

import os

import moto
from moto.utilities.utils import load_resource

from bluegreen.emulator import Emulator, motofix

OFFERINGS = os.path.join(
    os.path.dirname(moto.__file__), "ec2", "resources", "instance_type_offerings"
)


def _from_moto_files(location_type: str, region: str) -> list[dict[str, str]]:
    name = next(
        f for f in os.listdir(os.path.join(OFFERINGS, location_type)) if f.split(".")[0] == region
    )
    found = load_resource(
        os.path.join("ec2", "resources", "instance_type_offerings", location_type, name)
    )
    return [{**o, "LocationType": location_type} for o in found]


def test_instance_type_offerings_are_moto_s_own_read_on_first_use() -> None:
    with Emulator("us-east-1") as aws:
        import moto.ec2.models.instance_types as module

        kept = module.INSTANCE_TYPE_OFFERINGS
        assert set(kept) == set(os.listdir(OFFERINGS))  # every location type, deferred
        ec2 = aws.client("ec2")
        for location_type in ("region", "availability-zone"):
            pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
                LocationType=location_type
            )
            answered = [o for page in pages for o in page["InstanceTypeOfferings"]]
            expected = _from_moto_files(location_type, "us-east-1")
            assert answered and len(answered) == len(expected)
            key = lambda o: (o["InstanceType"], o["Location"])  # noqa: E731
            assert sorted(map(key, answered)) == sorted(map(key, expected))
            assert {o["LocationType"] for o in answered} == {location_type}
        # A region without offerings' file answers none, as moto does.
        assert kept["region"].get("mars-1", []) == []


def test_one_loader_parses_each_botocore_file_once() -> None:
    from boto3.session import Session
    from moto.core import utils

    from bluegreen.emulator import core

    with Emulator("ap-northeast-1") as aws:
        aws.client("ecs").list_clusters()
        loader = motofix.shared_loader()
        # The emulator's sessions read through it ...
        assert core._SESSIONS["ap-northeast-1"]._session.get_component("data_loader") is loader
        # ... so do moto's region questions (a fresh Session each time, in moto) ...
        assert Session().get_available_regions("ecs")
        assert motofix._SHARED[0]._session.get_component("data_loader") is loader
        # ... and moto's serializers: the model moto reads is the one botocore parsed.
        assert utils._load_service_model("ecs", "service-2") is loader.load_service_model(
            "ecs", "service-2"
        )
