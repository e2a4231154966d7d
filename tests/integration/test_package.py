"""The CloudFormation package: built offline once per session, then checked.

Expectations are derived from the code (pynamodb models, the Chalice app,
Settings), so a new table, index, handler or setting is checked without
editing this file.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.app import DynamoDBEventConfig
from chalice.utils import to_cfn_resource_name

from app import app
from chalicelib.config import Settings
from chalicelib.events import streams
from chalicelib.http.openapi import RATE_LIMIT_TEXT
from chalicelib.storage import schema  # noqa: F401  (registers every model)
from chalicelib.storage.base import registered_models

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))

import build_template  # noqa: E402
import package  # noqa: E402

pytestmark = pytest.mark.package


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make package STAGE=prod` minus cfn-lint (its own test), into a temp dir."""
    out = tmp_path_factory.mktemp("package") / "out"
    package.package("prod", out, check_only=True, lint=False)
    return out


@pytest.fixture(scope="session")
def template(packaged: Path) -> dict[str, Any]:
    return dict(json.loads((packaged / "sam.json").read_text()))


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, role in resources(template, "AWS::IAM::Role").items():
        for doc in role["Properties"].get("Policies", []):
            for statement in doc["PolicyDocument"]["Statement"]:
                yield name, statement
    for name, pol in resources(template, "AWS::IAM::Policy").items():
        for statement in pol["Properties"]["PolicyDocument"]["Statement"]:
            yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_generated_files_are_current() -> None:
    stale = [str(p) for p, text in build_template.outputs().items() if p.read_text() != text]
    assert stale == [], "run `python deploy/build_template.py`"


def test_cfn_lint_finds_nothing(packaged: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from cfnlint.runner import main; main()", str(packaged / "sam.json")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deployment_zip_is_under_25_mb(packaged: Path) -> None:
    assert (packaged / "deployment.zip").stat().st_size < 25 * 1024 * 1024


def test_every_table_matches_its_model_and_is_protected(template: dict[str, Any]) -> None:
    tables = resources(template, "AWS::DynamoDB::Table")
    models = registered_models()
    assert len(tables) == len(models) == 14
    for model in models:
        base = model.Meta.base_name
        table = tables[f"{to_cfn_resource_name(base)}Table"]
        props = table["Properties"]
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["DeletionProtectionEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        # Physical name = the TABLE_PREFIX the functions get + base name (Settings.table_name).
        assert props["TableName"] == {"Fn::Sub": "${AWS::StackName}-" + base}

        keys = [(k["AttributeName"], k["KeyType"]) for k in props["KeySchema"]]
        expected = [(model._hash_keyname, "HASH")]
        if model._range_keyname:
            expected.append((model._range_keyname, "RANGE"))
        assert keys == expected, base

        declared = {
            index["IndexName"]: (kind, [(k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]])
            for kind, prop in (("global", "GlobalSecondaryIndexes"), ("local", "LocalSecondaryIndexes"))
            for index in props.get(prop, [])
        }
        wanted = {}
        for index in model._indexes.values():
            attrs = index.Meta.attributes.values()
            key = [(a.attr_name, "HASH") for a in attrs if a.is_hash_key]
            key += [(a.attr_name, "RANGE") for a in attrs if a.is_range_key]
            kind = "local" if type(index).__mro__[1].__name__ == "LocalSecondaryIndex" else "global"
            wanted[index.Meta.index_name] = (kind, key)
        assert declared == wanted, base

        view = getattr(model.Meta, "stream_view_type", None)
        assert props.get("StreamSpecification") == ({"StreamViewType": view} if view else None), base
        ttl = getattr(model.Meta, "ttl_attribute", None)
        assert props.get("TimeToLiveSpecification") == ({"AttributeName": ttl, "Enabled": True} if ttl else None)


def test_indexes_the_brief_relies_on_are_declared(template: dict[str, Any]) -> None:
    props = {n: r["Properties"] for n, r in resources(template, "AWS::DynamoDB::Table").items()}
    assert [i["IndexName"] for i in props["MembersTable"]["GlobalSecondaryIndexes"]] == ["by_account"]
    assert [i["IndexName"] for i in props["MembersTable"]["LocalSecondaryIndexes"]] == ["by_email"]
    invitation_indexes = [i["IndexName"] for i in props["InvitationsTable"]["GlobalSecondaryIndexes"]]
    assert sorted(invitation_indexes) == ["pending_by_expiry", "sending_by_claim"]  # expiry job; lost sends
    assert [i["IndexName"] for i in props["TokensTable"]["GlobalSecondaryIndexes"]] == ["by_owner"]
    assert [i["IndexName"] for i in props["SessionsTable"]["GlobalSecondaryIndexes"]] == ["by_account"]
    streamed = {n: p["StreamSpecification"]["StreamViewType"] for n, p in props.items() if "StreamSpecification" in p}
    assert streamed == {
        "MembersTable": "NEW_AND_OLD_IMAGES",
        "InvitationsTable": "NEW_AND_OLD_IMAGES",
        "SessionsTable": "NEW_IMAGE",  # sign-in requests: only the new item matters
    }
    assert props["SessionsTable"]["TimeToLiveSpecification"] == {"AttributeName": "expires_ttl", "Enabled": True}
    # Service accounts: listed per org (sparse index), access tokens removed by TTL.
    assert [i["IndexName"] for i in props["ServiceAccountsTable"]["GlobalSecondaryIndexes"]] == ["by_org"]
    ttl = props["ServiceAccountsTable"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_ttl", "Enabled": True}


def test_each_stream_function_reads_its_own_tables_stream(template: dict[str, Any]) -> None:
    table_of = {getattr(h, "func", h).__name__: t for t, h in streams.HANDLERS_BY_TABLE.items()}
    sources = [s for s in app.event_sources if isinstance(s, DynamoDBEventConfig)]
    assert len(sources) >= 2
    functions = resources(template, "AWS::Serverless::Function")
    queues = resources(template, "AWS::SQS::Queue")
    for source in sources:
        name = to_cfn_resource_name(source.name)
        events = [e for e in functions[name]["Properties"]["Events"].values() if e["Type"] == "DynamoDB"]
        assert len(events) == 1, name
        props = events[0]["Properties"]
        table = f"{to_cfn_resource_name(table_of[source.name])}Table"
        assert props["Stream"] == {"Fn::GetAtt": [table, "StreamArn"]}
        assert props["BisectBatchOnFunctionError"] is True
        # One failed record is retried on its own (the handlers answer batchItemFailures).
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert 0 <= props["MaximumRetryAttempts"] <= 10
        assert 60 <= props["MaximumRecordAgeInSeconds"] <= 24 * 3600
        destination = props["DestinationConfig"]["OnFailure"]
        assert destination["Type"] == "SQS"
        assert destination["Destination"]["Fn::GetAtt"][0] in queues
    assert "placeholder" not in json.dumps(template)


def test_no_dynamodb_or_ses_grant_on_a_wildcard(template: dict[str, Any]) -> None:
    checked = 0
    for role, statement in statements(template):
        if statement["Effect"] != "Allow":
            continue
        actions = as_list(statement["Action"])
        assert all(a != "*" and not a.endswith(":*") for a in actions), (role, actions)
        if any(a.startswith(("dynamodb:", "ses:")) for a in actions):
            checked += 1
            for resource in as_list(statement["Resource"]):
                assert isinstance(resource, dict), (role, resource)  # an ARN built from the template
                assert "*" not in json.dumps(resource).replace("/stream/*", ""), (role, resource)
    assert checked >= 4


def test_ses_send_is_limited_to_the_configured_identity(template: dict[str, Any]) -> None:
    grants = [s for _, s in statements(template) if "ses:SendEmail" in as_list(s["Action"])]
    assert grants
    for grant in grants:
        assert "identity/${SesIdentity}" in json.dumps(grant["Resource"])
        assert grant["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "MailSender"}}}


def test_every_function_gets_every_setting_it_reads(template: dict[str, Any]) -> None:
    wanted = {name.upper() for name in Settings.model_fields} - {n.upper() for n in build_template.NOT_IN_LAMBDA}
    functions = resources(template, "AWS::Serverless::Function")
    assert len(functions) == 1 + len(app.event_sources)
    for name, fn in functions.items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert wanted <= set(env), (name, sorted(wanted - set(env)))
        assert "LINK_SIGNING_KEY" not in env
        assert env["MAIL_BACKEND"] == "ses"
        assert env["TABLE_PREFIX"] == {"Fn::Sub": "${AWS::StackName}-"}
        assert env["LINK_SIGNING_KEY_PARAMETER"] == {"Ref": "LinkSigningKeyParameter"}


def test_no_secret_in_the_template_or_config(template: dict[str, Any]) -> None:
    text = json.dumps(template) + (ROOT / ".chalice" / "config.json").read_text()
    assert Settings.model_fields["link_signing_key"].default not in text
    assert 'LINK_SIGNING_KEY"' not in text


def test_every_function_logs_json_and_raises_alarms(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Serverless::Function")
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()

    def alarmed(metric: str, dimension: Any) -> bool:
        return any(
            a["Properties"]["MetricName"] == metric and a["Properties"]["Dimensions"][0]["Value"] == dimension
            for a in alarms
        )

    for name, fn in functions.items():
        logging = fn["Properties"]["LoggingConfig"]
        assert logging["LogFormat"] == "JSON"
        assert logging["LogGroup"] == {"Ref": f"{name}LogGroup"}
        assert alarmed("Errors", {"Ref": name}), name
        if any(e["Type"] == "DynamoDB" for e in fn["Properties"].get("Events", {}).values()):
            assert alarmed("IteratorAge", {"Ref": name}), name
    for queue in resources(template, "AWS::SQS::Queue"):
        assert alarmed("ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": [queue, "QueueName"]}), queue


def test_app_log_lines_go_through_the_root_logger() -> None:
    # In Lambda the root logger's handler writes the JSON format (requestId on every line);
    # a handler of chalice's own would print plain text instead.
    assert app.log.handlers == []
    assert app.log.propagate is True


def test_the_package_imports_with_nothing_but_its_own_contents(packaged: Path, tmp_path: Path) -> None:
    # -S: no site-packages, so every runtime dependency must be inside the zip.
    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        archive.extractall(tmp_path)
    handlers = sorted({"app"} | {source.handler_string.rpartition(".")[0] for source in app.event_sources})
    script = f"import importlib, boto3; [importlib.import_module(m) for m in {handlers!r}]; boto3.client('ssm')"
    result = subprocess.run(
        [sys.executable, "-S", "-c", script],
        env={"PYTHONPATH": str(tmp_path), "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_sandbox_stage_policy_is_scoped_by_the_stage_names() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    dev = config["stages"][build_template.SANDBOX_STAGE]
    assert config["autogen_policy"] is False
    policy = json.loads((ROOT / ".chalice" / dev["iam_policy_file"]).read_text())
    prefix = dev["environment_variables"]["TABLE_PREFIX"]
    sender = dev["environment_variables"]["MAIL_SENDER"]
    for statement in policy["Statement"]:
        resources = as_list(statement["Resource"])
        assert "*" not in resources
        if any(a.startswith("dynamodb:") for a in statement["Action"]):
            assert all(f":table/{prefix}" in r for r in resources), resources
        if any(a.startswith("ses:") for a in statement["Action"]):
            assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": sender}}


def test_the_local_stage_needs_no_aws_secret_store() -> None:
    # `chalice local --stage dev` puts these variables into the local API: no SSM there.
    dev = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["dev"]
    assert "LINK_SIGNING_KEY_PARAMETER" not in dev.get("environment_variables", {})


def test_cold_start_modules_ship_as_unchecked_bytecode(packaged: Path) -> None:
    # Lambda's code directory is read-only: without these every cold start compiles from source.
    with zipfile.ZipFile(packaged / "deployment.zip") as archive:
        names = set(archive.namelist())
        tag = sys.implementation.cache_tag
        for module in ("app", "chalicelib/config", "chalicelib/http/schemas", "pydantic/main", "botocore/client"):
            folder, _, stem = module.rpartition("/")
            pyc = f"{folder + '/' if folder else ''}__pycache__/{stem}.{tag}.pyc"
            assert pyc in names, pyc
            flags = int.from_bytes(archive.read(pyc)[4:8], "little")
            assert flags == 0b01, pyc  # hash-based, source not checked: valid whatever the file times


def test_api_stage_is_throttled_and_429_uses_the_error_envelope(template: dict[str, Any]) -> None:
    (api,) = resources(template, "AWS::Serverless::Api").values()
    props = api["Properties"]
    (setting,) = [s for s in props["MethodSettings"] if s["ResourcePath"] == "/*"]
    assert setting["HttpMethod"] == "*" and setting["ResourcePath"] == "/*"
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    params = template["Parameters"]
    assert int(params["ApiThrottlingRateLimit"]["Default"]) == build_template.THROTTLING_RATE_LIMIT
    assert int(params["ApiThrottlingBurstLimit"]["Default"]) == build_template.THROTTLING_BURST_LIMIT
    throttled = props["GatewayResponses"]["THROTTLED"]
    assert throttled["StatusCode"] == "429"
    body = json.loads(throttled["ResponseTemplates"]["application/json"])
    assert body["error"]["code"] == "rate_limited"
    # The OpenAPI document states the same defaults.
    rates = f"defaults {build_template.THROTTLING_RATE_LIMIT} rps / {build_template.THROTTLING_BURST_LIMIT}"
    assert rates in RATE_LIMIT_TEXT
    unknown = props["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]
    assert unknown["StatusCode"] == "404"
    assert json.loads(unknown["ResponseTemplates"]["application/json"])["error"]["code"] == "not_found"


def test_the_gateways_own_answers_give_browsers_a_page_with_the_pages_headers(template: dict[str, Any]) -> None:
    (api,) = resources(template, "AWS::Serverless::Api").values()
    responses = api["Properties"]["GatewayResponses"]
    for kind, words in (("MISSING_AUTHENTICATION_TOKEN", "Page not found"), ("THROTTLED", "Please slow down")):
        page = responses[kind]["ResponseTemplates"]["text/html"]
        assert page.startswith("<!doctype html>") and f"<h1>{words}</h1>" in page
        headers = responses[kind]["ResponseParameters"]["Headers"]
        assert headers["Content-Security-Policy"] == "'sandbox'"  # no script, no form, no plugin
        assert headers["X-Frame-Options"] == "'DENY'" and headers["Referrer-Policy"] == "'no-referrer'"
        assert headers["X-Content-Type-Options"] == "'nosniff'" and headers["Cache-Control"] == "'no-store'"
        assert all(v.startswith("'") and v.endswith("'") and "'" not in v[1:-1] for v in headers.values())
    assert responses["THROTTLED"]["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"


def test_waf_rate_limits_each_source_ip_on_the_anonymous_routes_and_verify(template: dict[str, Any]) -> None:
    import re

    (acl_name, acl) = next(iter(resources(template, "AWS::WAFv2::WebACL").items()))
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    assert props["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in props["Rules"]}
    anonymous = rules["AnonymousRoutesPerIp"]["Statement"]["RateBasedStatement"]
    verify = rules["TokenVerifyPerIp"]["Statement"]["RateBasedStatement"]
    assert anonymous["AggregateKeyType"] == verify["AggregateKeyType"] == "IP"
    assert anonymous["Limit"] == {"Ref": "WafAnonymousRateLimit"}
    assert verify["Limit"] == {"Ref": "WafVerifyRateLimit"}
    params = template["Parameters"]
    assert int(params["WafVerifyRateLimit"]["Default"]) > int(params["WafAnonymousRateLimit"]["Default"])
    for rule in rules.values():
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseHeaders"] == [{"Name": "Retry-After", "Value": "60"}]

    # The scope-down regexes, applied to the paths WAF sees (with and without the stage prefix).
    anonymous_regex = re.compile(anonymous["ScopeDownStatement"]["RegexMatchStatement"]["RegexString"])
    scope = verify["ScopeDownStatement"]["Fn::If"]
    assert scope[0] == "HasChannelServerCidrs"
    plain_verify = scope[2]["RegexMatchStatement"]
    assert scope[1]["AndStatement"]["Statements"][0]["RegexMatchStatement"] == plain_verify
    exempt = scope[1]["AndStatement"]["Statements"][1]["NotStatement"]["Statement"]["IPSetReferenceStatement"]
    assert exempt["Arn"] == {"Fn::GetAtt": ["ChannelServerIpSet", "Arn"]}
    verify_regex = re.compile(plain_verify["RegexString"])
    assert plain_verify["FieldToMatch"] == {"UriPath": {}}
    anonymous_paths = [
        "/v1/auth/login-link",
        "/v1/auth/login-link/redeem",
        "/v1/invitations/oin_abc",
        "/v1/invitations/oin_abc/accept",
        "/sign-in",
        "/sign-in/olc_abc",
        "/invitations/oin_abc",
        "/invitations/oin_abc/accept",
        "/v1/oauth/token",
        "/v1/health",
        "/openapi.json",
        "/docs",
    ]
    for path in anonymous_paths:
        for seen in (path, "/api" + path):
            assert anonymous_regex.search(seen), seen
            assert not verify_regex.search(seen), seen
    for seen in ("/v1/tokens/verify", "/api/v1/tokens/verify"):
        assert verify_regex.search(seen) and not anonymous_regex.search(seen)
    for authenticated in ("/v1/me", "/api/v1/orgs/org_1/invitations", "/orgs/org_1/invitations/inv_1/resend"):
        assert not anonymous_regex.search(authenticated) and not verify_regex.search(authenticated)
    for exempt in ("/", "/static/console.css", "/sign-out"):
        assert not anonymous_regex.search(exempt), exempt

    (association,) = resources(template, "AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_name, "Arn"]}
    arn = association["Properties"]["ResourceArn"]["Fn::Join"][1]
    assert arn[0] == {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/"}
    assert arn[1] == {"Ref": "RestAPI.Stage"}
    (ip_set,) = resources(template, "AWS::WAFv2::IPSet").values()
    assert ip_set["Condition"] == "HasChannelServerCidrs"
    assert ip_set["Properties"]["Addresses"] == {"Ref": "ChannelServerCidrs"}
    for name in ("WafAnonymousRateLimit", "WafVerifyRateLimit", "ChannelServerCidrs"):
        assert name in params


def test_verification_has_its_own_throttle_bucket(template: dict[str, Any]) -> None:
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    (verify,) = [s for s in settings if s["ResourcePath"] == "/~1v1~1tokens~1verify"]
    assert verify["HttpMethod"] == "POST"
    assert verify["ThrottlingRateLimit"] == {"Ref": "VerifyThrottlingRateLimit"}
    assert verify["ThrottlingBurstLimit"] == {"Ref": "VerifyThrottlingBurstLimit"}
    params = template["Parameters"]
    assert int(params["VerifyThrottlingRateLimit"]["Default"]) > int(params["ApiThrottlingRateLimit"]["Default"])


def test_every_route_open_without_a_credential_is_rate_limited_or_exempt_for_a_reason() -> None:
    """The WAF's anonymous rule is read from the route registries: no open route is forgotten."""
    from chalicelib.console.web import declared_pages
    from chalicelib.http.routing import declared_routes

    open_paths = {r.path for r in declared_routes() if r.auth != "api_key"}
    open_paths |= {page.path for page in declared_pages() if page.auth != "session"}
    limited = set(build_template.anonymous_routes())
    assert open_paths == limited | set(build_template.ANONYMOUS_EXEMPT)
    assert not limited & set(build_template.ANONYMOUS_EXEMPT)
    assert all(reason for reason in build_template.ANONYMOUS_EXEMPT.values())
    assert {"/v1/health", "/openapi.json", "/docs", "/v1/oauth/token", "/sign-in"} <= limited
