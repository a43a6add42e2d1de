"""The Spotify credentials of the ingest Lambda, read from its credentials store.

The store is exactly one of an SSM Parameter Store SecureString (the stack's default) and a
Secrets Manager secret, either holding ``{"client_id": ..., "client_secret": ...}``
(:class:`~ingest.invocation.HandlerConfig` says which). The credentials come through
Powertools' parameters utility: ``SSMProvider`` with ``decrypt=True`` (``ssm:GetParameter``
WithDecryption) or ``SecretsProvider``, never from a cache. A store without usable
credentials yet raises :class:`~ingest.errors.SecretValueMissingError` (the handler answers
``credentials_missing``); a store that cannot be read raises
:class:`~ingest.errors.SecretError`. The client secret is never logged, and no message quotes
the stored value.
"""

from __future__ import annotations

import json
from typing import Any, Final

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from ingest.errors import SecretError, SecretValueMissingError
from ingest.invocation import HandlerConfig
from ingest.settings import (
    CLIENT_ID_KEY,
    CLIENT_SECRET_KEY,
    CREDENTIALS_PARAMETER_ENV,
    CREDENTIALS_SHAPE,
    SECRET_ARN_ENV,
    SpotifySettings,
)

#: Keys of the stored credentials' JSON.
SECRET_CLIENT_ID: Final = CLIENT_ID_KEY
SECRET_CLIENT_SECRET: Final = CLIENT_SECRET_KEY
#: Secrets Manager's error code for a secret that does not exist *or* has no AWSCURRENT
#: value yet (the two differ only in the message); DescribeSecret tells them apart.
SECRET_NOT_FOUND: Final = "ResourceNotFoundException"  # noqa: S105 (an error code)
CURRENT_STAGE: Final = "AWSCURRENT"
#: SSM's error code for a parameter that does not exist: the unfilled state (the stack names
#: the parameter and grants reading exactly it; only the operator's put-parameter creates it).
PARAMETER_NOT_FOUND: Final = "ParameterNotFound"


class ParameterValueMissingError(SecretValueMissingError):
    """The SSM credentials parameter does not exist yet, or holds no usable credentials.

    A :class:`~ingest.errors.SecretValueMissingError` (answered ``credentials_missing``, no
    retries, one alert) whose next step is SSM's: the one ``put-parameter`` command that
    creates the SecureString (or overwrites a malformed one). Its message never quotes the
    parameter's value.
    """

    def __init__(self, name: str, problem: str) -> None:
        # SecretError's constructor, not SecretValueMissingError's: that one names the
        # Secrets Manager command.
        SecretError.__init__(
            self,
            f"the Spotify credentials parameter {name} {problem}; nothing was fetched or "
            "written. Next step: fill it with the Spotify app's values (developer dashboard), "
            f"e.g. aws ssm put-parameter --name {name} --type SecureString --overwrite "
            f"--value {CREDENTIALS_SHAPE} (docs/runbook.md, 'Fill the credentials'), then "
            "re-run the day (docs/runbook.md, 'Run a day')",
        )
        self.secret_arn = name
        self.problem = problem


def read_credentials(config: HandlerConfig, secrets_client: Any, ssm_client: Any) -> str | None:
    """The raw stored credentials (never logged), from the configured store.

    One provider per invocation, on the invocation's credentials; it never answers from a
    cache (``force_fetch``), so credentials filled in after ``credentials_missing`` are read
    the next time. Raises :class:`~ingest.errors.SecretValueMissingError` (a subclass for
    SSM) when the store has no value yet, :class:`~ingest.errors.SecretError` when it cannot
    be read at all (access denied, throttling, a wrong name of a secret: raised, so the state
    machine retries and alerts).
    """
    if config.parameter_name is not None:
        return _read_parameter(config.parameter_name, ssm_client)
    assert config.secret_arn is not None  # HandlerConfig holds exactly one
    return _read_secret(config.secret_arn, secrets_client)


def _read_parameter(name: str, ssm_client: Any) -> str | None:
    """The SecureString's decrypted value (``ssm:GetParameter`` WithDecryption, and
    ``kms:Decrypt`` of its key through SSM)."""
    ssm = SSMProvider(boto3_client=ssm_client) if ssm_client else SSMProvider()
    try:
        value = ssm.get(name, decrypt=True, force_fetch=True)
    except GetParameterError as e:
        error = e.__context__ or e  # Powertools wraps the SDK's error
        if isinstance(error, ClientError) and _error_code(error) == PARAMETER_NOT_FOUND:
            raise ParameterValueMissingError(name, "does not exist yet") from None
        raise SecretError(
            f"cannot read the Spotify credentials parameter {name} ({error}); check "
            f"{CREDENTIALS_PARAMETER_ENV} and that the Lambda's role may call "
            "ssm:GetParameter on it and kms:Decrypt through SSM"
        ) from error
    return value if isinstance(value, str) else None


def _read_secret(arn: str, secrets_client: Any) -> str | None:
    """The secret's SecretString (GetSecretValue)."""
    secrets = SecretsProvider(boto3_client=secrets_client) if secrets_client else SecretsProvider()
    try:
        # The raw value: its JSON is read by spotify_settings, with messages that never quote it.
        value = secrets.get(arn, force_fetch=True)
    except GetParameterError as e:
        # Powertools wraps the SDK's error; the original is the exception's context.
        error = e.__context__ or e
        if _has_no_current_value(error, secrets.client, arn):
            raise SecretValueMissingError(arn, "exists but has no value yet") from None
        raise SecretError(
            f"cannot read the Spotify credentials secret {arn} ({error}); check "
            f"{SECRET_ARN_ENV} and that the Lambda's role may call secretsmanager:GetSecretValue"
        ) from error
    return value if isinstance(value, str) else None


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def spotify_settings(config: HandlerConfig, value: str | None) -> SpotifySettings:
    """Spotify settings from the stored credentials ``value`` (never logged).

    Raises :class:`~ingest.errors.SecretValueMissingError` (or its SSM subclass) when the
    value holds no usable credentials: a setup step not done yet, answered with
    ``credentials_missing``.
    """
    where = config.credentials_location

    def missing(problem: str) -> SecretValueMissingError:
        if config.parameter_name is not None:
            return ParameterValueMissingError(where, problem)
        return SecretValueMissingError(where, problem)

    # The problems below never quote the stored content.
    if not isinstance(value, str) or not value:
        raise missing("has no text value" + ("" if config.parameter_name else " (SecretString)"))
    try:
        payload = json.loads(value)
    except ValueError:
        raise missing("is not JSON") from None
    if not isinstance(payload, dict):
        raise missing("is not a JSON object")
    values = {key: payload.get(key) for key in (SECRET_CLIENT_ID, SECRET_CLIENT_SECRET)}
    lacking = [k for k, v in values.items() if not isinstance(v, str) or not v.strip()]
    if lacking:
        fields = " and ".join(f'"{k}"' for k in lacking)
        raise missing(f"has no non-empty string {fields}")
    return SpotifySettings(
        client_id=str(values[SECRET_CLIENT_ID]).strip(),
        client_secret=str(values[SECRET_CLIENT_SECRET]).strip(),
        api_url=config.api_url,
        token_url=config.token_url,
    )


def _has_no_current_value(error: BaseException, secrets: Any, arn: str) -> bool:
    """Whether ``error`` (from GetSecretValue) means "the secret exists, without a value".

    Secrets Manager answers ResourceNotFoundException both for a secret that does not exist
    and for one created without a value ("can't find the specified secret value for staging
    label: AWSCURRENT"); rather than parse the message, DescribeSecret (granted with
    GetSecretValue by CDK's ``grant_read``) says whether the secret exists and has a version
    in the AWSCURRENT stage. Any doubt (DescribeSecret fails) keeps the original error.
    """
    if not isinstance(error, ClientError):
        return False
    if _error_code(error) != SECRET_NOT_FOUND:
        return False
    try:
        described = secrets.describe_secret(SecretId=arn)
    except (ClientError, BotoCoreError):
        return False
    stages = described.get("VersionIdsToStages") or {}
    return not any(CURRENT_STAGE in labels for labels in stages.values())
