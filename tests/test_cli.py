import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "cnnlib", *args], capture_output=True, text=True)


def test_conv_size():
    assert run("conv-size", "7", "3").stdout.strip() == "5"
    assert run("conv-size", "7", "3", "--stride", "2").stdout.strip() == "3"


def test_bad_arguments_exit_2_with_a_message():
    res = run("conv-size", "3", "7")
    assert res.returncode == 2
    assert "larger than the padded input" in res.stderr
