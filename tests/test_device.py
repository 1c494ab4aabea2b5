from __future__ import annotations

import numpy as np
import pytest

import xpdb
from xpdb import config
from xpdb.device import get_device, gpu_available, parse_bytes
from xpdb.errors import DeviceError


def test_cpu_device_is_numpy():
    dev = get_device("cpu")
    assert dev.xp is np and dev.kind == "cpu" and str(dev) == "cpu"
    assert get_device("cpu") is dev  # one object per device


def test_auto_picks_gpu_only_when_available():
    expected = "gpu" if gpu_available() else "cpu"
    assert get_device("auto").kind == expected


def test_device_setting_and_env(monkeypatch):
    with config.set(device="cpu"):
        assert get_device(None).kind == "cpu"
    monkeypatch.setenv("XPDB_DEVICE", "cpu")
    config.refresh()
    try:
        assert config.get("device") == "cpu"
    finally:
        monkeypatch.delenv("XPDB_DEVICE")
        config.refresh()


@pytest.mark.skipif(gpu_available(), reason="needs a machine without a GPU")
def test_gpu_request_without_gpu_is_a_clear_error():
    with pytest.raises(DeviceError, match="no GPU is usable.*device='cpu'"):
        get_device("gpu")


@pytest.mark.parametrize("spec", ["tpu", "gpu:x", ""])
def test_unknown_device_spec(spec):
    with pytest.raises(DeviceError, match="device"):
        get_device(spec)


def test_parse_bytes():
    assert parse_bytes("2GB") == 2 * 10**9
    assert parse_bytes("512MiB") == 512 * 2**20
    assert parse_bytes("25%", total=400) == 100
    assert parse_bytes(0.5, total=400) == 200
    assert parse_bytes(123) == 123
    assert parse_bytes(None) is None
    with pytest.raises(DeviceError, match="cannot read memory limit"):
        parse_bytes("lots")
    with pytest.raises(DeviceError):
        parse_bytes(1.5, total=10)


def test_transfer_counting(device):
    dev = get_device(device)
    dev.reset_stats()
    host = np.arange(1000, dtype=np.int64)
    arr = dev.asarray(host)
    back = dev.to_host(arr)
    np.testing.assert_array_equal(back, host)
    if dev.is_gpu:
        assert dev.stats.to_device == host.nbytes
        assert dev.stats.to_host == host.nbytes
    else:  # nothing crosses a bus on the CPU
        assert dev.stats.to_device == 0 and dev.stats.to_host == 0


def test_memory_limit_setting(device):
    dev = get_device(device)
    old = dev.memory_limit
    try:
        dev.set_memory_limit("1GB")
        assert dev.memory_limit == 10**9
    finally:
        dev.set_memory_limit(old)


@pytest.mark.skipif(not gpu_available(), reason="needs a GPU")
def test_gpu_memory_limit_raises_device_memory_error():
    dev = get_device("gpu")
    old = dev.memory_limit
    try:
        dev.set_memory_limit(64 * 2**20)
        with pytest.raises(xpdb.errors.DeviceMemoryError, match="memory limit"):
            dev.asarray(np.zeros(32 * 2**20, dtype=np.float64))  # 256 MiB
    finally:
        dev.set_memory_limit(old)


def test_config_rejects_unknown_setting():
    with pytest.raises(xpdb.XpdbError, match="unknown xpdb setting 'nope'"):
        config.get("nope")
    with pytest.raises(xpdb.XpdbError):
        config.set(nope=1)
