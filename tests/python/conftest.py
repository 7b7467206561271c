# SPDX-License-Identifier: MIT
"""pytest set-up for the Python binding's tests.

Tests marked ``kvm`` need a usable KVM device: when the run selects them
(-m kvm) and there is none, the whole session ends with status 77 (meson's
"skipped") instead of passing with nothing run. The rest run anywhere, on
libvm's fake backend.
"""
import os

import pytest

import libvm


def pytest_configure(config):
    config.addinivalue_line("markers", "kvm: needs a usable /dev/kvm (or $LIBVM_DEVICE)")


def kvm_usable():
    try:
        libvm.Vm().close()
        return None
    except libvm.LibvmError as e:
        return str(e)


def pytest_collection_modifyitems(session, config, items):
    if "kvm" not in (config.getoption("-m") or "") or "not kvm" in config.getoption("-m"):
        return
    why = kvm_usable()
    if why is not None:
        pytest.exit("SKIP: no usable KVM device here: %s" % why, returncode=77)


@pytest.fixture
def fake_vm():
    with libvm.Vm("fake") as vm:
        yield vm


def env_path(name):
    """A file the meson test passes in the environment, or skip."""
    path = os.environ.get(name)
    if not path or not os.path.exists(path):
        pytest.skip("%s is not set (built without the test kernels)" % name)
    return path
