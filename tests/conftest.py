"""Shared fixtures: every device-parametrized test runs on the CPU, and on the GPU when CuPy
sees one."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from xpdb.device import get_device, gpu_available

DEVICES = ["cpu"] + (["gpu"] if gpu_available() else [])

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "gpu", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("XPDB_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """The device name a test runs on: 'cpu' always, 'gpu' when a GPU is usable."""
    if request.param == "gpu":
        request.applymarker(pytest.mark.gpu)
    return request.param


@pytest.fixture
def dev(device: str):
    """The Device object for ``device``."""
    return get_device(device)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
