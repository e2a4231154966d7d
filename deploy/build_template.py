"""Write deploy/resources.json, the template merged into `chalice package` output.

Generated from the code so it cannot drift from it:
- tables (keys, GSIs, LSIs, streams) from the pynamodb models,
- functions from the Chalice app (routes, stream and schedule handlers),
- which table a stream handler reads from ``events.streams.HANDLERS_BY_TABLE``,
- environment variables from ``chalicelib.config.Settings``: every field must be
  either given a value here or listed with a reason as not set in Lambda, so a
  new setting fails the build until someone decides where it comes from.

Usage: ``python deploy/build_template.py [--check]`` (``--check`` exits 1 when
the committed file differs from what the code generates).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalice.app import DynamoDBEventConfig, ScheduledEventConfig  # noqa: E402
from chalice.utils import to_cfn_resource_name  # noqa: E402

from app import app  # noqa: E402
from chalicelib.config import Settings  # noqa: E402
from chalicelib.console.web import SECURITY_HEADERS, gateway_page  # noqa: E402
from chalicelib.events import streams  # noqa: E402
from chalicelib.storage import schema  # noqa: E402, F401  (registers every model)
from chalicelib.storage.base import registered_models  # noqa: E402

OUTPUT = ROOT / "deploy" / "resources.json"
API_FUNCTION = "APIHandler"  # chalice's logical id for the function serving every route
API_ROLE = "ApiHandlerRole"

# Stream event source: a poison record is bisected, retried a bounded number of
# times, then sent to the dead-letter queue instead of blocking the shard.
STREAM_MAX_RETRIES = 5
STREAM_MAX_RECORD_AGE_SECONDS = 6 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
ITERATOR_AGE_ALARM_MS = 5 * 60 * 1000
LOG_RETENTION_DAYS = 90

# DynamoDB data-plane actions the code performs (pynamodb get/query/save/update/
# delete; Tx = TransactWriteItems, which IAM authorizes per item as
# Put/Update/Delete/ConditionCheckItem; BatchGetItem for bulk seat changes;
# BatchWriteItem for the token cascade). No Scan, no table admin.
# tests/integration/test_iam_actions.py fails when the code uses an operation not listed here.
DATA_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
HEALTH_ACTIONS = ["dynamodb:DescribeTable"]  # GET /v1/health (API function only)
STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def get_att(resource: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [resource, attribute]}


def table_logical_id(base_name: str) -> str:
    return f"{to_cfn_resource_name(base_name)}Table"


def _default(field: str) -> Any:
    return Settings.model_fields[field].default


# API Gateway stage throttling (token bucket per stage, every method): beyond it
# clients get 429 before the function runs. Defaults are far below the account
# limit (10,000 rps) so one noisy caller cannot starve other APIs in the account.
THROTTLING_RATE_LIMIT = 50
THROTTLING_BURST_LIMIT = 100
REST_API = "RestAPI"  # chalice's logical id for the API Gateway REST API

# Per-client limits (AWS WAF, evaluated before API Gateway's throttling, so a blocked
# request never uses up a token of the stage's buckets). Rate-based rules count
# requests per source IP over a window of WAF_WINDOW_SECONDS.
WAF_WINDOW_SECONDS = 300
WAF_RETRY_AFTER_SECONDS = 60
ANONYMOUS_RATE_LIMIT = 300  # per IP per 5 min on the sign-in and invitation routes
VERIFY_RATE_LIMIT = 30000  # per IP per 5 min on /v1/tokens/verify (100 rps: a busy channel server)
VERIFY_THROTTLING_RATE_LIMIT = 500
VERIFY_THROTTLING_BURST_LIMIT = 1000
VERIFY_ROUTE = ("/v1/tokens/verify", "POST")
# The routes anyone may call without a credential come from the route registries (a REST route
# declared ``auth="none"`` or ``"optional"``, a page likewise), so a new one is rate-limited per
# source address without anyone remembering to list it: the console's sign-in and invitation
# pages, the JSON API's sign-in link request and redeem, invitation preview and accept, the OAuth
# token endpoint, health and the API's documents. Verification has its own rule; these have none:
ANONYMOUS_EXEMPT = {
    "/": "the Organizations page or, signed out, the sign-in form: no read without a session",
    "/sign-out": "ends the session it is sent with; without one it does nothing",
    "/static/{name}": "the stylesheet and script, no read: every page view fetches them",
    VERIFY_ROUTE[0]: "its own rule (WafVerifyRateLimit), sized for channel servers",
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "ApiThrottlingRateLimit": {
        "Type": "Number",
        "Default": str(THROTTLING_RATE_LIMIT),
        "MinValue": 1,
        "Description": "Steady-state requests per second the API stage accepts before answering 429.",
    },
    "ApiThrottlingBurstLimit": {
        "Type": "Number",
        "Default": str(THROTTLING_BURST_LIMIT),
        "MinValue": 1,
        "Description": "Burst size (requests) the API stage accepts above the steady rate.",
    },
    "VerifyThrottlingRateLimit": {
        "Type": "Number",
        "Default": str(VERIFY_THROTTLING_RATE_LIMIT),
        "MinValue": 1,
        "Description": "Steady-state requests per second POST /v1/tokens/verify accepts (its own bucket).",
    },
    "VerifyThrottlingBurstLimit": {
        "Type": "Number",
        "Default": str(VERIFY_THROTTLING_BURST_LIMIT),
        "MinValue": 1,
        "Description": "Burst size (requests) POST /v1/tokens/verify accepts above its steady rate.",
    },
    "WafAnonymousRateLimit": {
        "Type": "Number",
        "Default": str(ANONYMOUS_RATE_LIMIT),
        "MinValue": 100,
        "MaxValue": 2000000000,
        "Description": f"Requests per source IP per {WAF_WINDOW_SECONDS} s on the sign-in and invitation routes.",
    },
    "WafVerifyRateLimit": {
        "Type": "Number",
        "Default": str(VERIFY_RATE_LIMIT),
        "MinValue": 100,
        "MaxValue": 2000000000,
        "Description": f"Requests per source IP per {WAF_WINDOW_SECONDS} s on POST /v1/tokens/verify.",
    },
    "ChannelServerCidrs": {
        "Type": "CommaDelimitedList",
        "Default": "",
        "Description": "Optional IPv4 CIDRs of the channel servers, exempt from WafVerifyRateLimit; empty for none.",
    },
    "MailSender": {
        "Type": "String",
        "Description": "From address of every email (must belong to SesIdentity).",
        "AllowedPattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    },
    "SesIdentity": {
        "Type": "String",
        "Description": "Verified SES identity (domain or address) the functions may send as.",
        "AllowedPattern": r"^[^\s/*]+$",
    },
    "SesConfigurationSet": {
        "Type": "String",
        "Default": "",
        "Description": "Optional SES configuration set (event publishing); empty for none.",
    },
    "PublicBaseUrl": {
        "Type": "String",
        "Description": "Public https base URL used in emailed links.",
        "AllowedPattern": r"^https://\S+$",
    },
    "InvitationTtlDays": {
        "Type": "Number",
        "Default": str(_default("invitation_ttl_days")),
        "MinValue": 1,
        "MaxValue": 90,
    },
    "TokenDefaultDays": {"Type": "Number", "Default": str(_default("token_default_days")), "MinValue": 1},
    "TokenMaxDays": {"Type": "Number", "Default": str(_default("token_max_days")), "MinValue": 1},
    "ApiKeyMaxDays": {
        "Type": "Number",
        "Default": str(_default("api_key_max_days")),
        "MinValue": 1,
        "Description": "Latest expiry (days from creation) a personal API key may be given.",
    },
    "LoginLinkMinutes": {
        "Type": "Number",
        "Default": str(_default("login_link_minutes")),
        "MinValue": 1,
        "MaxValue": 1440,
    },
    "LinkSigningKeyParameter": {
        "Type": "String",
        "Description": "Name of the SSM SecureString holding the link signing key (created out of band).",
        "AllowedPattern": r"^/[A-Za-z0-9_.\-/]+$",
    },
    "LogLevel": {"Type": "String", "Default": "INFO", "AllowedValues": ["DEBUG", "INFO", "WARN", "ERROR"]},
}

# Settings fields -> value in every function's environment.
ENVIRONMENT: dict[str, Any] = {
    "table_prefix": sub("${AWS::StackName}-"),
    "invitation_ttl_days": ref("InvitationTtlDays"),
    "token_default_days": ref("TokenDefaultDays"),
    "token_max_days": ref("TokenMaxDays"),
    "login_link_minutes": ref("LoginLinkMinutes"),
    "api_key_max_days": ref("ApiKeyMaxDays"),
    "public_base_url": ref("PublicBaseUrl"),
    "mail_backend": "ses",
    "mail_sender": ref("MailSender"),
    "ses_configuration_set": ref("SesConfigurationSet"),
    "link_signing_key_parameter": ref("LinkSigningKeyParameter"),
    "members_stream_arn": get_att(table_logical_id("members"), "StreamArn"),
    "invitations_stream_arn": get_att(table_logical_id("invitations"), "StreamArn"),
    "sessions_stream_arn": get_att(table_logical_id("sessions"), "StreamArn"),
    "max_body_bytes": str(_default("max_body_bytes")),
    **{
        name: str(_default(name))
        for name in (
            "invitations_per_org_day",
            "invitations_per_new_org_day",
            "invitations_per_account_day",
            "resends_per_org_day",
            "resends_per_new_org_day",
            "resends_per_account_day",
            "new_org_days",
            "resend_cooldown_seconds",
            "signin_requests_per_email",
            "signin_requests_per_address",
            "dynamodb_connect_timeout_seconds",
            "dynamodb_read_timeout_seconds",
            "dynamodb_max_retry_attempts",
            "send_lease_seconds",
            "service_token_seconds",
        )
    },
}

# Settings fields whose variable comes from the stage in .chalice/config.json.
FROM_STAGE_CONFIG: dict[str, str] = {"stage": "STAGE, set per stage in .chalice/config.json"}

# Settings fields deliberately absent from the Lambda environment, and why.
NOT_IN_LAMBDA: dict[str, str] = {
    "aws_region": "AWS_REGION is set by the Lambda runtime (a reserved variable)",
    "dynamodb_endpoint": "local stack only; in AWS the regional endpoint is used",
    "outbox_dir": "outbox mail backend only (local stack)",
    "dns_resolver": "local stack and tests only; in AWS the function's own resolver is used",
    "link_signing_key": "a secret: read from SSM via link_signing_key_parameter",
}


# Not settings of ours: runtime switches for libraries, measured by bench/cold_start.py.
RUNTIME_ENV: dict[str, str] = {
    # No pydantic plugins are used; skip the entry-point scan on the first model class.
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}


def check_settings_covered() -> None:
    fields = set(Settings.model_fields)
    sources = [set(ENVIRONMENT), set(FROM_STAGE_CONFIG), set(NOT_IN_LAMBDA)]
    missing = fields - set().union(*sources)
    unknown = set().union(*sources) - fields
    both = {name for name in fields if sum(name in s for s in sources) > 1}
    if missing or unknown or both:
        raise SystemExit(
            "deploy/build_template.py is out of step with chalicelib.config.Settings: "
            f"no template value for {sorted(missing)}; unknown {sorted(unknown)}; both {sorted(both)}"
        )


def environment() -> dict[str, Any]:
    check_settings_covered()
    return {**{name.upper(): value for name, value in sorted(ENVIRONMENT.items())}, **RUNTIME_ENV}


# ---------------------------------------------------------------- tables


def _key_schema(keys: list[dict[str, str]]) -> list[dict[str, str]]:
    """HASH first, as CloudFormation requires (pynamodb sorts by name)."""
    ordered = sorted(keys, key=lambda k: 0 if k["KeyType"] == "HASH" else 1)
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in ordered]


def table_resource(model: Any) -> dict[str, Any]:
    meta = model.Meta
    schema_: Any = model._get_schema()
    props: dict[str, Any] = {
        "TableName": sub("${AWS::StackName}-" + meta.base_name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": sorted(
            (
                {"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
                for a in schema_["attribute_definitions"]
            ),
            key=lambda a: a["AttributeName"],
        ),
        "KeySchema": _key_schema(schema_["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
        "SSESpecification": {"SSEEnabled": True},
    }
    for kind, prop in (
        ("global_secondary_indexes", "GlobalSecondaryIndexes"),
        ("local_secondary_indexes", "LocalSecondaryIndexes"),
    ):
        indexes = [
            {
                "IndexName": index["index_name"],
                "KeySchema": _key_schema(index["key_schema"]),
                "Projection": dict(index["projection"]),
            }
            for index in schema_[kind]
        ]
        if indexes:
            props[prop] = sorted(indexes, key=lambda i: i["IndexName"])
    stream_view = getattr(meta, "stream_view_type", None)
    if stream_view:
        props["StreamSpecification"] = {"StreamViewType": stream_view}
    ttl_attribute = getattr(meta, "ttl_attribute", None)
    if ttl_attribute:
        props["TimeToLiveSpecification"] = {"AttributeName": ttl_attribute, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def table_and_index_arns(model: Any) -> list[Any]:
    logical = table_logical_id(model.Meta.base_name)
    arns: list[Any] = [get_att(logical, "Arn")]
    schema_: Any = model._get_schema()
    for index in schema_["global_secondary_indexes"] + schema_["local_secondary_indexes"]:
        arns.append(sub(f"${{{logical}.Arn}}/index/{index['index_name']}"))
    return arns


# ---------------------------------------------------------------- functions


def stream_tables() -> dict[str, str]:
    """Stream handler name -> table base name, from the code's own routing table."""
    return {getattr(h, "func", h).__name__: table for table, h in streams.HANDLERS_BY_TABLE.items()}


def functions() -> list[dict[str, Any]]:
    """Every Lambda function chalice emits: logical id, role id, kind and stream table."""
    found: list[dict[str, Any]] = []
    if app.routes:
        found.append({"id": API_FUNCTION, "role": API_ROLE, "kind": "api", "table": None, "event": None})
    by_handler = stream_tables()
    for source in app.event_sources:
        logical = to_cfn_resource_name(source.name)
        if isinstance(source, DynamoDBEventConfig):
            if source.name not in by_handler:
                raise SystemExit(f"stream handler {source.name} is missing from streams.HANDLERS_BY_TABLE")
            found.append(
                {
                    "id": logical,
                    "role": f"{logical}Role",
                    "kind": "stream",
                    "table": by_handler[source.name],
                    "event": f"{logical}DynamodbEventSource",
                    "source": source,
                }
            )
        elif isinstance(source, ScheduledEventConfig):
            found.append({"id": logical, "role": f"{logical}Role", "kind": "schedule", "table": None, "event": None})
        else:
            raise SystemExit(f"no deployment rule for event source {source.name} ({type(source).__name__})")
    if app.pure_lambda_functions or app.websocket_handlers or app.builtin_auth_handlers:
        raise SystemExit("deploy/build_template.py has no rule yet for pure lambdas, websockets or authorizers")
    return found


def policy(fn: dict[str, Any], models: list[Any]) -> dict[str, Any]:
    """Least privilege for one function: its log group, the tables/indexes, and per kind extras."""
    all_arns: list[Any] = [arn for model in models for arn in table_and_index_arns(model)]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogGroup",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": get_att(f"{fn['id']}LogGroup", "Arn"),
        },
        {"Sid": "TableData", "Effect": "Allow", "Action": DATA_ACTIONS, "Resource": all_arns},
    ]
    if fn["kind"] == "api":
        statements.append(
            {
                "Sid": "HealthCheck",
                "Effect": "Allow",
                "Action": HEALTH_ACTIONS,
                "Resource": [get_att(table_logical_id(m.Meta.base_name), "Arn") for m in models],
            }
        )
    if fn["kind"] in ("api", "stream"):
        # These send mail (login links, invitations, seat notices) and sign links.
        statements.append(
            {
                "Sid": "SendAsConfiguredIdentity",
                "Effect": "Allow",
                "Action": ["ses:SendEmail"],
                "Resource": [
                    sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SesIdentity}"),
                    {
                        "Fn::If": [
                            "HasSesConfigurationSet",
                            sub(
                                "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
                                ":configuration-set/${SesConfigurationSet}"
                            ),
                            ref("AWS::NoValue"),
                        ]
                    },
                ],
                "Condition": {"StringEquals": {"ses:FromAddress": ref("MailSender")}},
            }
        )
        statements.append(
            {
                "Sid": "ReadLinkSigningKey",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": sub(
                    "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${LinkSigningKeyParameter}"
                ),
            }
        )
    if fn["kind"] == "stream":
        table = table_logical_id(fn["table"])
        statements.append(
            {
                "Sid": "ReadOwnStream",
                "Effect": "Allow",
                "Action": STREAM_READ_ACTIONS,
                "Resource": sub(f"${{{table}.Arn}}/stream/*"),
            }
        )
        statements.append(
            {
                "Sid": "DeadLetter",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": get_att(f"{fn['id']}DeadLetterQueue", "Arn"),
            }
        )
    return {
        "PolicyName": f"{fn['id']}Policy",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
    }


def alarm(name: str, description: str, props: dict[str, Any]) -> dict[str, Any]:
    base = {
        "AlarmDescription": description,
        "AlarmActions": [ref("AlarmTopic")],
        "OKActions": [ref("AlarmTopic")],
        "EvaluationPeriods": 1,
        "Period": 300,
        "TreatMissingData": "notBreaching",
    }
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {**base, **props}}


def function_resources(fn: dict[str, Any], models: list[Any], env: dict[str, Any]) -> dict[str, Any]:
    fid = fn["id"]
    resources: dict[str, Any] = {
        f"{fid}LogGroup": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "LogGroupName": sub(f"/aws/lambda/${{AWS::StackName}}/{fid}"),
                "RetentionInDays": LOG_RETENTION_DAYS,
            },
        },
        fn["role"]: {"Type": "AWS::IAM::Role", "Properties": {"Policies": [policy(fn, models)]}},
        f"{fid}ErrorsAlarm": alarm(
            f"{fid}Errors",
            f"{fid} raised errors",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": ref(fid)}],
                "Statistic": "Sum",
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            },
        ),
    }
    function_props: dict[str, Any] = {
        "Environment": {"Variables": env},
        # Lambda's own JSON log format: every line carries the requestId, no library at cold start.
        "LoggingConfig": {
            "LogFormat": "JSON",
            "LogGroup": ref(f"{fid}LogGroup"),
            "ApplicationLogLevel": ref("LogLevel"),
            "SystemLogLevel": "WARN",
        },
    }
    if fn["kind"] == "stream":
        table = table_logical_id(fn["table"])
        dlq = f"{fid}DeadLetterQueue"
        resources[dlq] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": DLQ_RETENTION_SECONDS, "SqsManagedSseEnabled": True},
        }
        function_props["Events"] = {
            fn["event"]: {
                "Type": "DynamoDB",
                "Properties": {
                    "Stream": get_att(table, "StreamArn"),
                    "StartingPosition": fn["source"].starting_position,
                    "BatchSize": fn["source"].batch_size,
                    "BisectBatchOnFunctionError": True,
                    # The handlers answer batchItemFailures: only a failed record (and those after it) is retried.
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "MaximumRetryAttempts": STREAM_MAX_RETRIES,
                    "MaximumRecordAgeInSeconds": STREAM_MAX_RECORD_AGE_SECONDS,
                    "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": get_att(dlq, "Arn")}},
                },
            }
        }
        resources[f"{fid}IteratorAgeAlarm"] = alarm(
            f"{fid}IteratorAge",
            f"{fid} is falling behind its stream",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": ref(fid)}],
                "Statistic": "Maximum",
                "Threshold": ITERATOR_AGE_ALARM_MS,
                "ComparisonOperator": "GreaterThanThreshold",
            },
        )
        resources[f"{fid}DeadLetterAlarm"] = alarm(
            f"{fid}DeadLetters",
            f"stream records {fid} gave up on are waiting in its dead-letter queue",
            {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": get_att(dlq, "QueueName")}],
                "Statistic": "Maximum",
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            },
        )
    resources[fid] = {"Type": "AWS::Serverless::Function", "Properties": function_props}
    return resources


def rest_api() -> dict[str, Any]:
    """Stage throttling, and the API's own error envelope on API Gateway's own answers.

    Merged into chalice's ``AWS::Serverless::Api``. The 429 body is the
    envelope of every other error (code ``rate_limited``), so clients have one
    error format; Retry-After tells them to back off. An unknown path or a
    method a path does not declare never reaches the function: API Gateway
    answers it (403 "Missing Authentication Token" by default), here a 404
    ``not_found`` in the envelope.
    """
    envelope = json.dumps(
        {"error": {"code": "rate_limited", "message": "Too many requests; retry after a short delay."}}
    )
    not_found = json.dumps({"error": {"code": "not_found", "message": "Not found."}})
    return {
        "Type": "AWS::Serverless::Api",
        "Properties": {
            "MethodSettings": [
                {
                    "HttpMethod": "*",
                    "ResourcePath": "/*",
                    "ThrottlingRateLimit": ref("ApiThrottlingRateLimit"),
                    "ThrottlingBurstLimit": ref("ApiThrottlingBurstLimit"),
                },
                # Verification has its own bucket, sized for channel servers.
                {
                    "HttpMethod": VERIFY_ROUTE[1],
                    "ResourcePath": method_setting_path(VERIFY_ROUTE[0]),
                    "ThrottlingRateLimit": ref("VerifyThrottlingRateLimit"),
                    "ThrottlingBurstLimit": ref("VerifyThrottlingBurstLimit"),
                },
            ],
            "GatewayResponses": {
                # Browsers (Accept: text/html) get a console page in words, clients the JSON envelope.
                "THROTTLED": {
                    "StatusCode": "429",
                    "ResponseParameters": {"Headers": {**GATEWAY_PAGE_HEADERS, "Retry-After": "'1'"}},
                    "ResponseTemplates": {"application/json": envelope, "text/html": gateway_page("rate_limited")},
                },
                "MISSING_AUTHENTICATION_TOKEN": {
                    "StatusCode": "404",
                    "ResponseParameters": {"Headers": GATEWAY_PAGE_HEADERS},
                    "ResponseTemplates": {"application/json": not_found, "text/html": gateway_page("not_found")},
                },
            },
        },
    }


def method_setting_path(path: str) -> str:
    """A MethodSettings ResourcePath: ``/v1/x`` is written ``/~1v1~1x`` (CloudFormation's encoding)."""
    return "/" + path.replace("/", "~1")


def anonymous_routes() -> list[str]:
    """Every path a caller without a credential may reach, but the exempt ones (in registry order)."""
    from chalicelib.console.web import declared_pages
    from chalicelib.http.routing import declared_routes

    missing = [path for path in ANONYMOUS_EXEMPT if path not in app.routes]
    if missing:
        raise SystemExit(f"deploy/build_template.py exempts routes the app does not declare: {missing}")
    open_paths = [r.path for r in declared_routes() if r.auth != "api_key"]
    open_paths += [page.path for page in declared_pages() if page.auth != "session"]
    return [path for path in dict.fromkeys(open_paths) if path not in ANONYMOUS_EXEMPT]


def path_regex(paths: list[str]) -> str:
    """One WAF regex for route templates: ``{param}`` is one path segment. The URI WAF sees
    on the execute-api host starts with the stage (``/api``), behind a custom domain it does not."""
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]["api_gateway_stage"]
    alternatives = []
    for path in paths:
        parts = [("[^/]+" if p.startswith("{") else re.escape(p)) for p in path.strip("/").split("/")]
        alternatives.append("/".join(parts))
    return f"^(/{re.escape(stage)})?/({'|'.join(alternatives)})/?$"


def _visibility(name: str) -> dict[str, Any]:
    return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": name}


def _rate_rule(name: str, priority: int, limit: str, scope_down: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": name,
        "Priority": priority,
        "Action": {
            "Block": {
                "CustomResponse": {
                    "ResponseCode": 429,
                    "CustomResponseBodyKey": "rate_limited",
                    # WAF lifts a block once the address's rate falls under the limit, checked every
                    # few seconds over the window: a minute is an honest first wait.
                    "ResponseHeaders": [{"Name": "Retry-After", "Value": str(WAF_RETRY_AFTER_SECONDS)}],
                }
            }
        },
        "Statement": {
            "RateBasedStatement": {
                "Limit": ref(limit),
                "EvaluationWindowSec": WAF_WINDOW_SECONDS,
                "AggregateKeyType": "IP",
                "ScopeDownStatement": scope_down,
            }
        },
        "VisibilityConfig": _visibility(name),
    }


def _path_match(paths: list[str]) -> dict[str, Any]:
    return {
        "RegexMatchStatement": {
            "RegexString": path_regex(paths),
            "FieldToMatch": {"UriPath": {}},
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }


def waf_resources() -> dict[str, Any]:
    """A regional WebACL on the API stage: per-IP rate rules on the anonymous routes and on verify.

    Channel servers listed in ChannelServerCidrs are exempt from the verify rule; every other
    client is held to WafVerifyRateLimit, so one anonymous flood is refused by WAF (429) and never
    drains verification's own throttle bucket (VerifyThrottlingRateLimit) that channel servers share.
    """
    verify = _path_match([VERIFY_ROUTE[0]])
    not_channel_server = {
        "NotStatement": {"Statement": {"IPSetReferenceStatement": {"Arn": get_att("ChannelServerIpSet", "Arn")}}}
    }
    verify_scope = {
        "Fn::If": [
            "HasChannelServerCidrs",
            {"AndStatement": {"Statements": [verify, not_channel_server]}},
            verify,
        ]
    }
    body = json.dumps(
        {"error": {"code": "rate_limited", "message": "Too many requests from your address; retry later."}}
    )
    return {
        "ChannelServerIpSet": {
            "Type": "AWS::WAFv2::IPSet",
            "Condition": "HasChannelServerCidrs",
            "Properties": {
                "Scope": "REGIONAL",
                "IPAddressVersion": "IPV4",
                "Addresses": ref("ChannelServerCidrs"),
                "Description": "Channel servers: exempt from the per-IP limit on token verification.",
            },
        },
        "ApiWebAcl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {
                "Scope": "REGIONAL",
                "DefaultAction": {"Allow": {}},
                "Description": "Per-source-IP rate limits on the unauthenticated routes and on token verification.",
                "CustomResponseBodies": {"rate_limited": {"ContentType": "APPLICATION_JSON", "Content": body}},
                "Rules": [
                    _rate_rule("AnonymousRoutesPerIp", 0, "WafAnonymousRateLimit", _path_match(anonymous_routes())),
                    _rate_rule("TokenVerifyPerIp", 1, "WafVerifyRateLimit", verify_scope),
                ],
                "VisibilityConfig": _visibility("ApiWebAcl"),
            },
        },
        "ApiWebAclAssociation": {
            "Type": "AWS::WAFv2::WebACLAssociation",
            "Properties": {
                "WebACLArn": get_att("ApiWebAcl", "Arn"),
                "ResourceArn": {
                    "Fn::Join": [
                        "",
                        [
                            sub("arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/"),
                            ref(f"{REST_API}.Stage"),
                        ],
                    ]
                },
            },
        },
    }


# What the console's pages carry (chalicelib.console.web), on the gateway's own pages too. A static
# gateway header value is written in single quotes and cannot contain one, so the pages' CSP (whose
# 'self' and 'none' need them) cannot be sent as it is: these pages, which have no script and no form,
# get the one policy that needs no quotes, ``sandbox`` (no script, no form, no plugin, an opaque
# origin), and X-Frame-Options DENY stands for frame-ancestors 'none'.
GATEWAY_PAGE_CSP = "sandbox"
GATEWAY_PAGE_HEADERS = {
    name: f"'{GATEWAY_PAGE_CSP if name == 'Content-Security-Policy' else value}'"
    for name, value in SECURITY_HEADERS.items()
}
assert all("'" not in value.strip("'") for value in GATEWAY_PAGE_HEADERS.values())


def build() -> dict[str, Any]:
    models: list[Any] = list(registered_models())
    models.sort(key=lambda m: m.Meta.base_name)
    env = environment()
    resources: dict[str, Any] = {table_logical_id(m.Meta.base_name): table_resource(m) for m in models}
    resources["AlarmTopic"] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {"KmsMasterKeyId": "alias/aws/sns"},
    }
    for fn in functions():
        resources.update(function_resources(fn, models, env))
    resources[REST_API] = rest_api()
    resources.update(waf_resources())
    return {
        "Parameters": PARAMETERS,
        "Conditions": {
            "HasSesConfigurationSet": {"Fn::Not": [{"Fn::Equals": [ref("SesConfigurationSet"), ""]}]},
            "HasChannelServerCidrs": {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", ref("ChannelServerCidrs")]}, ""]}]},
        },
        "Resources": resources,
        "Outputs": {
            "AlarmTopicArn": {"Value": ref("AlarmTopic")},
            **{
                f"{table_logical_id(m.Meta.base_name)}Name": {"Value": ref(table_logical_id(m.Meta.base_name))}
                for m in models
            },
        },
    }


SANDBOX_STAGE = "sandbox"  # `chalice deploy` stage (the dev stage is the local stack's)


def sandbox_policy() -> dict[str, Any]:
    """IAM policy for `chalice deploy --stage sandbox`: same actions, scoped by the stage's names.

    Without CloudFormation there are no resource ARNs to reference, so resources
    are named by the stage's table prefix, function prefix, sender and key parameter.
    """
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage = config["stages"][SANDBOX_STAGE]
    env = {**config.get("environment_variables", {}), **stage.get("environment_variables", {})}
    prefix = env["TABLE_PREFIX"]
    sender = env.get("MAIL_SENDER", _default("mail_sender"))
    domain = sender.rpartition("@")[2]
    tables = f"arn:aws:dynamodb:*:*:table/{prefix}*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:*:*:log-group:/aws/lambda/{config['app_name']}-{SANDBOX_STAGE}*",
        },
        {
            "Sid": "TableData",
            "Effect": "Allow",
            "Action": DATA_ACTIONS + HEALTH_ACTIONS,
            "Resource": [tables, f"{tables}/index/*"],
        },
        {"Sid": "ReadStreams", "Effect": "Allow", "Action": STREAM_READ_ACTIONS, "Resource": f"{tables}/stream/*"},
        {
            "Sid": "SendAsConfiguredIdentity",
            "Effect": "Allow",
            "Action": ["ses:SendEmail"],
            "Resource": [f"arn:aws:ses:*:*:identity/{domain}", f"arn:aws:ses:*:*:identity/{sender}"],
            "Condition": {"StringEquals": {"ses:FromAddress": sender}},
        },
    ]
    if env.get("LINK_SIGNING_KEY_PARAMETER"):
        statements.append(
            {
                "Sid": "ReadLinkSigningKey",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": f"arn:aws:ssm:*:*:parameter{env['LINK_SIGNING_KEY_PARAMETER']}",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


# The prod roles' policies come from the merge template; chalice still requires a
# stage policy file. It denies everything, so `chalice deploy --stage prod` (which
# would skip the template) yields functions that can do nothing rather than too much.
PROD_POLICY_GUARD = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "DeployProdWithThePackagedTemplate", "Effect": "Deny", "Action": "*", "Resource": "*"}],
}


def _json(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"


def outputs() -> dict[Path, str]:
    """Every generated file and its content."""
    stage = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"][SANDBOX_STAGE]
    return {
        OUTPUT: _json(build()),
        ROOT / ".chalice" / stage["iam_policy_file"]: _json(sandbox_policy()),
        ROOT / ".chalice" / "policy-prod.json": _json(PROD_POLICY_GUARD),
    }


def render() -> str:
    return outputs()[OUTPUT]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed file is stale")
    args = parser.parse_args()
    stale = [path for path, text in outputs().items() if not path.exists() or path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `python deploy/build_template.py`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs().items():
        if path in stale:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
