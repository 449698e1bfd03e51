"""The AWS credentials chain (src/app/aws/credential_provider.cpp) through build/tools/
aws_credentials, against files, a fake STS and a fake IMDSv2 endpoint on loopback
(tests/process/fake_aws.py): which source wins, that temporary credentials are fetched again
before they expire (and only then), and that failures name what to do. The secret never
appears in the tool's output or errors."""

import json
import os
import subprocess

import pytest

import harness
from fake_aws import FakeImds, FakeSts

ROLE_ARN = "arn:aws:iam::123456789012:role/media-server"
CLOSED = "http://127.0.0.1:9"  # discard port: nothing listens in the namespace


def run_tool(home, env: dict, again_after=None) -> list:
    tool = harness.BUILD_DIR / "tools" / "aws_credentials"
    assert tool.exists(), f"{tool} not built"
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": str(home),
                "AWS_EC2_METADATA_SERVICE_ENDPOINT": CLOSED, "AWS_ENDPOINT_URL_STS": CLOSED}
    full_env.update(env)
    args = [str(tool)] + (["--again-after", str(again_after)] if again_after is not None else [])
    result = subprocess.run(args, env=full_env, capture_output=True, text=True, timeout=30,
                            check=True)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert "Secret" not in result.stdout and "secret-key" not in result.stdout
    return lines


def write_aws_files(home, credentials: str = "", config: str = "") -> None:
    (home / ".aws").mkdir(exist_ok=True)
    (home / ".aws" / "credentials").write_text(credentials)
    (home / ".aws" / "config").write_text(config)


def test_environment_wins_over_files(tmp_path):
    write_aws_files(tmp_path, "[default]\naws_access_key_id = AKIAFILE\n"
                              "aws_secret_access_key = fileSecret\n")
    [answer] = run_tool(tmp_path, {"AWS_ACCESS_KEY_ID": "AKIAENV",
                                   "AWS_SECRET_ACCESS_KEY": "envSecret"})
    assert answer["ok"] and answer["source"] == "environment"
    assert answer["access_key_id"] == "AKIAENV" and answer["expires"] is None


def test_shared_files_by_profile(tmp_path):
    write_aws_files(tmp_path,
                    "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = a\n"
                    "[build] # the build profile\naws_access_key_id = AKIABUILD\n"
                    "aws_secret_access_key = b\naws_session_token = t\n",
                    "[profile other]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = c\n")
    [default] = run_tool(tmp_path, {})
    assert default["access_key_id"] == "AKIADEFAULT"
    assert default["source"].startswith("shared credentials file ")
    [build] = run_tool(tmp_path, {"AWS_PROFILE": "build"})
    assert build["access_key_id"] == "AKIABUILD" and build["has_session_token"]
    [other] = run_tool(tmp_path, {"AWS_PROFILE": "other"})
    assert other["access_key_id"] == "AKIACONFIG" and other["source"].startswith("config file ")
    # Files elsewhere, named by the variables.
    custom = tmp_path / "custom-credentials"
    custom.write_text("[default]\naws_access_key_id = AKIACUSTOM\naws_secret_access_key = d\n")
    [named] = run_tool(tmp_path, {"AWS_SHARED_CREDENTIALS_FILE": str(custom)})
    assert named["access_key_id"] == "AKIACUSTOM" and str(custom) in named["source"]


def test_broken_credentials_file_names_file_and_line(tmp_path):
    write_aws_files(tmp_path, "[default]\naws_access_key_id = AKIA\nthis line has no equals\n")
    [answer] = run_tool(tmp_path, {})
    assert not answer["ok"]
    assert ".aws/credentials" in answer["error"] and "line 3" in answer["error"]


def test_web_identity_through_sts_and_refresh_before_expiry(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("eyJhbGciOi.web-identity.token\n")
    sts = FakeSts(ROLE_ARN, "eyJhbGciOi.web-identity.token", lifetime=3600).start()
    try:
        env = {"AWS_ROLE_ARN": ROLE_ARN, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
               "AWS_ENDPOINT_URL_STS": sts.url}
        first, later = run_tool(tmp_path, env, again_after=3600 - 200)
        assert first["ok"], first
        assert first["source"] == f"web identity ({ROLE_ARN})"
        assert first["access_key_id"] == "ASIASTS1" and first["has_session_token"]
        # 200 s before expiry is inside the refresh margin (300 s): STS is asked again.
        assert later["access_key_id"] == "ASIASTS2"
        assert sts.counts["AssumeRoleWithWebIdentity"] == 2 and not sts.problems
        # Well before expiry the cached keys are reused: no third call.
        run_tool(tmp_path, env, again_after=600)
        assert sts.counts["AssumeRoleWithWebIdentity"] == 3
    finally:
        sts.stop()


def test_web_identity_from_profile_and_denied(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("tok")
    write_aws_files(tmp_path, "", f"[default]\nrole_arn = {ROLE_ARN}\n"
                                  f"web_identity_token_file = {token_file}\n")
    sts = FakeSts(ROLE_ARN, "tok", deny=True).start()
    try:
        [answer] = run_tool(tmp_path, {"AWS_ENDPOINT_URL_STS": sts.url})
        assert not answer["ok"]
        assert "AccessDenied" in answer["error"] and "sts:AssumeRoleWithWebIdentity" in answer["error"]
    finally:
        sts.stop()


def test_imds_v2_and_refresh(tmp_path):
    imds = FakeImds(lifetime=900).start()
    try:
        env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}
        first, later = run_tool(tmp_path, env, again_after=700)
        assert first["ok"], first
        assert first["source"] == "EC2 instance role media-server-role (IMDSv2)"
        assert first["access_key_id"] == "ASIAIMDS1"
        assert later["access_key_id"] == "ASIAIMDS2"  # refreshed 200 s before expiry
        assert imds.counts.get("unauthorized GET", 0) == 0 and imds.counts.get("bad PUT", 0) == 0
        assert imds.counts["token"] == 2
        first, later = run_tool(tmp_path, env, again_after=100)
        assert first["access_key_id"] == later["access_key_id"] == "ASIAIMDS3"
    finally:
        imds.stop()


def test_nothing_found_says_what_was_tried(tmp_path):
    [answer] = run_tool(tmp_path, {})
    assert not answer["ok"]
    for expected in ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "shared files",
                     "EC2 instance metadata"):
        assert expected in answer["error"], answer["error"]
    [disabled] = run_tool(tmp_path, {"AWS_EC2_METADATA_DISABLED": "true"})
    assert "disabled" in disabled["error"]


def test_print_config_names_the_source_never_the_secret(tmp_path):
    write_aws_files(tmp_path, "[ops]\naws_access_key_id = AKIAOPS\naws_secret_access_key = opsSecret\n")
    result = subprocess.run([str(harness.binary()), "--print-config"], capture_output=True,
                            text=True, timeout=30, check=True, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                 "STAGE_SOURCE": "ivs", "AWS_PROFILE": "ops"})
    assert "AWS credentials from shared credentials file" in result.stdout
    assert "(profile ops)" in result.stdout and "opsSecret" not in result.stdout
    env_result = subprocess.run([str(harness.binary()), "--print-config"], capture_output=True,
                                text=True, timeout=30, check=True, cwd=tmp_path,
                                env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                     "STAGE_SOURCE": "ivs", "AWS_ACCESS_KEY_ID": "AKIAENV",
                                     "AWS_SECRET_ACCESS_KEY": "envSecret"})
    assert "AWS credentials from environment" in env_result.stdout
    assert "envSecret" not in env_result.stdout
