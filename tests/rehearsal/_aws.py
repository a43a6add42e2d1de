"""moto's server as the rehearsal's AWS account, with IAM enforced from the template.

How IAM is enforced, and how far that goes (the runbook repeats this):

* Each role of the template is created in moto's IAM with the policies the template
  attaches to it, read from the template (never retyped). A seam runs with credentials
  from ``sts:AssumeRole`` on that role; once enforcement is on (``/moto-api/reset-auth``),
  moto checks every signed request against the role's policies and answers AccessDenied
  for an action the role lacks.
* moto computes the resource ARN of S3 requests itself (bucket and key), so S3 statements
  are checked with their prefixes. For other services it passes ``*``, against which no
  scoped statement matches; :func:`install_resource_rules` gives Glue, Secrets Manager and
  SSM the ARNs AWS checks (Glue: the catalog, the database and the table of a request, each
  of which must be allowed; Secrets Manager: the secret; SSM: the parameter of a request
  that names one), so their statements are checked with their resources too.
* Not enforced by moto: condition operators other than ``StringEquals`` (the
  ``s3:prefix`` ``StringLike`` conditions on ListBucket pass), resource-based policies (the
  bucket policy's deny statements), KMS (moto's SSM decrypts a SecureString without asking
  KMS, so the ``kms:Decrypt`` statement and its ``kms:ViaService`` /
  ``kms:EncryptionContext:PARAMETER_ARN`` conditions are not exercised) and CloudWatch Logs
  (written by the Lambda and Glue services, not by our code). The template tests check those
  statements instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import boto3
import requests

from tests.rehearsal._template import ACCOUNT, PARTITION, REGION, Template

ADMIN_POLICY: Final = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _glue_arn(resource: str) -> str:
    return f"arn:{PARTITION}:glue:{REGION}:{ACCOUNT}:{resource}"


def glue_request_arns(body: dict[str, Any]) -> list[str]:
    """The ARNs AWS authorizes a Glue catalog request against: the catalog, the database
    and, for a table request, the table (``*`` for a listing of tables)."""
    arns = [_glue_arn("catalog")]
    database = body.get("DatabaseName") or body.get("DatabaseInput", {}).get("Name")
    if database:
        arns.append(_glue_arn(f"database/{database}"))
        table = body.get("Name") or body.get("TableName") or body.get("TableInput", {}).get("Name")
        if table:
            arns.append(_glue_arn(f"table/{database}/{table}"))
        elif "Expression" in body or "MaxResults" in body or "NextToken" in body:
            arns.append(_glue_arn(f"table/{database}/*"))
    return arns


def ssm_parameter_arn(name: str) -> str:
    """The ARN IAM checks for a parameter (a name starting with ``/`` adds no slash)."""
    if name.startswith("arn:"):
        return name
    return f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def install_resource_rules() -> None:
    """Give moto's Glue, Secrets Manager and SSM request checks real resource ARNs (see the
    module docstring). moto's server runs in this process, so its classes can be taught."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.glue.responses import GlueResponse
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    check = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def glue_check(self: Any, resource: str = "*") -> None:
        body = json.loads(self.body or "{}")
        for arn in glue_request_arns(body):
            check(self, arn)

    def secrets_check(self: Any, resource: str = "*") -> None:
        body = json.loads(self.body or "{}")
        secret = body.get("SecretId") or body.get("Name") or "*"
        if not str(secret).startswith("arn:"):
            from moto.secretsmanager.models import secretsmanager_backends

            backend = secretsmanager_backends[ACCOUNT][REGION]
            found = backend.secrets.get(secret)
            secret = found.arn if found is not None else secret
        check(self, str(secret))

    def ssm_check(self: Any, resource: str = "*") -> None:
        body = json.loads(self.body or "{}")
        name = body.get("Name")
        check(self, ssm_parameter_arn(str(name)) if name else "*")

    GlueResponse._authenticate_and_authorize_normal_action = glue_check  # type: ignore[method-assign]
    SecretsManagerResponse._authenticate_and_authorize_normal_action = secrets_check  # type: ignore[method-assign]
    SimpleSystemManagerResponse._authenticate_and_authorize_normal_action = ssm_check  # type: ignore[method-assign]


@dataclass
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def env(self) -> dict[str, str]:
        env = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }
        if self.session_token:
            env["AWS_SESSION_TOKEN"] = self.session_token
        return env

    def session(self) -> boto3.Session:
        return boto3.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=REGION,
        )


class Account:
    """One moto account: an admin for setup, the template's roles for the seams."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = Credentials("AKIAREHEARSALADMIN00", "rehearsal-admin-secret")

    def reset(self) -> None:
        self.enforce(False)
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
        iam = self.client("iam", Credentials("testing", "testing"))
        iam.create_user(UserName="rehearsal-admin")
        iam.put_user_policy(
            UserName="rehearsal-admin",
            PolicyName="admin",
            PolicyDocument=json.dumps(ADMIN_POLICY),
        )
        key = iam.create_access_key(UserName="rehearsal-admin")["AccessKey"]
        self.admin = Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def enforce(self, on: bool) -> None:
        """IAM checks on every signed request from now on (``on``), or none."""
        value = "0" if on else "inf"
        requests.post(f"{self.url}/moto-api/reset-auth", data=value, timeout=10).raise_for_status()

    @contextmanager
    def enforced(self) -> Iterator[None]:
        self.enforce(True)
        try:
            yield
        finally:
            self.enforce(False)

    def client(self, service: str, credentials: Credentials | None = None) -> Any:
        creds = credentials or self.admin
        return creds.session().client(service, endpoint_url=self.url)  # type: ignore[call-overload]

    def create_role(self, template: Template, role_logical_id: str) -> str:
        """The role as the template defines it: trust policy, inline and attached policies."""
        props = template.properties(role_logical_id)
        name = template.name(role_logical_id)
        iam = self.client("iam")
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
        )
        for policy_name, document in template.role_policies(role_logical_id):
            iam.put_role_policy(
                RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        for arn in template.managed_policy_arns(role_logical_id):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        return name

    def assume(self, template: Template, role_logical_id: str) -> Credentials:
        """Credentials of the role (created first if needed), as its service would get."""
        name = template.name(role_logical_id)
        iam = self.client("iam")
        try:
            iam.get_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            self.create_role(template, role_logical_id)
        answer = self.client("sts").assume_role(
            RoleArn=f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}", RoleSessionName="rehearsal"
        )["Credentials"]
        return Credentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])


def denied(call: Callable[[], object]) -> bool:
    """Whether ``call`` is refused by IAM (AccessDenied of any service's spelling)."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        return code in {"AccessDenied", "AccessDeniedException", "403"}
    return False
