"""deploy/k8s/ checked offline, without a cluster, Helm or the network.

Three layers, each shown to reject a wrong key or type as well as to accept ours:
- every plain manifest against the Kubernetes OpenAPI schemas that kubernetes-validate
  ships (strict: an unknown field fails);
- values.yaml against the schema of the chart values we set (chart-values.schema.yaml);
- the Dagster instance the chart renders from those values, and the repository's
  production dagster.yaml, against Dagster's own instance schema and the config schema of
  each configured class (K8sRunLauncher, S3ComputeLogManager, QueuedRunCoordinator, ...).
"""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from dagster._config import resolve_to_config_type, validate_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from kubernetes_validate.utils import all_versions

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
MANIFESTS = sorted((K8S / "manifests").glob("*.yaml"))
# A Kubernetes release that kubernetes-validate ships schemas for (checked below).
KUBERNETES_VERSION = "1.33"
# Every source's raw asset declares pool `api_<source>` (SPEC: one request stream per API).
SOURCE_POOLS = {f"api_{s}" for s in ("remotive", "jobicy", "himalayas", "remoteok", "arbeitnow")}


def load_values() -> dict:
    return yaml.safe_load((K8S / "values.yaml").read_text())


def manifest_documents() -> list[tuple[str, dict]]:
    return [
        (f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc)
        for path in MANIFESTS
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def by_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for _, d in manifest_documents() if d["kind"] == kind}


# --- Kubernetes manifests ----------------------------------------------------------------


def test_the_pinned_kubernetes_version_is_shipped_by_kubernetes_validate() -> None:
    assert any(v.startswith(f"{KUBERNETES_VERSION}.") for v in all_versions())


@pytest.mark.parametrize("doc", [pytest.param(d, id=n) for n, d in manifest_documents()])
def test_manifest_is_valid_kubernetes(doc: dict) -> None:
    assert kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_manifests_hold_the_api_redis_settings_and_secrets() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for _, d in manifest_documents()}
    assert {
        ("Deployment", "jobs-assets-api"),
        ("Service", "jobs-assets-api"),
        ("Deployment", "jobs-assets-redis"),
        ("Service", "jobs-assets-redis"),
        ("ConfigMap", "jobs-assets-settings"),
        ("Secret", "jobs-assets-secrets"),
        ("Secret", "jobs-assets-api-db"),
        ("Secret", "dagster-postgresql-secret"),
    } <= kinds


def _api_container(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


def _unknown_field(doc: dict) -> None:
    doc["spec"]["replica"] = 2


def _port_as_text(doc: dict) -> None:
    _api_container(doc)["ports"][0]["containerPort"] = "8000"


def _env_from_typo(doc: dict) -> None:
    _api_container(doc)["envFrom"][0] = {"configMapRefs": {"name": "jobs-assets-settings"}}


@pytest.mark.parametrize("break_it", [_unknown_field, _port_as_text, _env_from_typo])
def test_a_broken_manifest_fails_validation(break_it: Callable[[dict], None]) -> None:
    doc = copy.deepcopy(by_kind("Deployment")["jobs-assets-api"])
    break_it(doc)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# --- values.yaml against the chart values schema -----------------------------------------


@pytest.fixture(scope="module")
def values_validator() -> jsonschema.Draft202012Validator:
    schema = yaml.safe_load((K8S / "chart-values.schema.yaml").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_values_match_the_chart_values_schema(
    values_validator: jsonschema.Draft202012Validator,
) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in values_validator.iter_errors(load_values())
    ]
    assert errors == []


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def apply(values: dict) -> None:
        *parents, last = path.split(".")
        node: Any = values
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[last] = value

    apply.__name__ = f"{path}={value!r}"
    return apply


def _rename(path: str, new: str) -> Callable[[dict], None]:
    def apply(values: dict) -> None:
        *parents, last = path.split(".")
        node: Any = values
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[new] = node.pop(last)

    apply.__name__ = f"{path}->{new}"
    return apply


BROKEN_VALUES = [
    _rename("dagsterWebserver", "dagsterWebServer"),
    _rename("runLauncher.config.k8sRunLauncher.envSecrets", "envSecret"),
    _rename("dagsterDaemon.runRetries.maxRetries", "max_retries"),
    _rename("computeLogManager.config.s3ComputeLogManager", "s3"),
    _set("dagster-user-deployments.deployments.0.port", "4000"),
    _set("dagster-user-deployments.deployments.0.image.tag", 1.1),
    _set("dagsterWebserver.image.pullPolicy", "always"),
    _set("runLauncher.type", "K8sJobLauncher"),
    _set("postgresql.postgresqlHost", ""),
    _set("concurrency.pools.granularity", "step"),
    _set("dagsterDaemon.runMonitoring.startTimeoutSeconds", "300"),
]


@pytest.mark.parametrize("break_it", BROKEN_VALUES, ids=lambda f: f.__name__)
def test_a_wrong_key_or_type_in_values_fails(
    values_validator: jsonschema.Draft202012Validator, break_it: Callable[[dict], None]
) -> None:
    values = load_values()
    break_it(values)
    assert list(values_validator.iter_errors(values)), "the broken values passed"


# --- The instance the chart renders, against Dagster's config schema ---------------------


def snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def snake_keys(value: Any) -> Any:
    """Value keys in the instance's spelling (camelCase to snake_case), recursively."""
    if isinstance(value, dict):
        return {snake(k): snake_keys(v) for k, v in value.items()}
    return value


def chart_instance(values: dict, release: str = "dagster") -> dict:
    """The dagster.yaml blocks the chart's instance ConfigMap renders from these values.

    A model of the chart's template, for the blocks this project sets (without Helm or the
    chart here): each value key becomes the snake_case field of the same name, ConfigMap
    and Secret references become their names, and the chart adds its own wiring (the
    instance ConfigMap, DAGSTER_HOME, the storage password from DAGSTER_PG_PASSWORD).
    `helm template` (deploy/k8s/README.md) shows the real rendering."""
    pg = values["postgresql"]
    launcher = dict(values["runLauncher"]["config"]["k8sRunLauncher"])
    refs = {k: [r["name"] for r in launcher.pop(k)] for k in ("envConfigMaps", "envSecrets")}
    logs = values["computeLogManager"]["config"]["s3ComputeLogManager"]
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    daemon = values["dagsterDaemon"]
    concurrency = {k: v for k, v in values["concurrency"].items() if k != "enabled"}
    retention = {k: v for k, v in values["retention"].items() if k != "enabled"}
    return {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "username": pg["postgresqlUsername"],
                    "password": {"env": "DAGSTER_PG_PASSWORD"},
                    "hostname": pg["postgresqlHost"],
                    "db_name": pg["postgresqlDatabase"],
                    "port": pg["service"]["port"],
                    "params": pg["postgresqlParams"],
                    "scheme": pg["postgresqlScheme"],
                }
            }
        },
        "scheduler": {
            "module": "dagster._core.scheduler",
            "class": "DagsterDaemonScheduler",
        },
        "run_coordinator": {
            "module": "dagster._core.run_coordinator",
            "class": values["dagsterDaemon"]["runCoordinator"]["type"],
            "config": snake_keys(queued),
        },
        "run_launcher": {
            "module": "dagster_k8s",
            "class": values["runLauncher"]["type"],
            "config": {
                **snake_keys(launcher),
                "env_config_maps": [f"{release}-pipeline-env", *refs["envConfigMaps"]],
                "env_secrets": refs["envSecrets"],
                "instance_config_map": f"{release}-instance",
                "dagster_home": values["global"]["dagsterHome"],
                "postgres_password_secret": values["global"]["postgresqlSecretName"],
                "service_account_name": release,
                "job_namespace": "jobs-assets",
            },
        },
        "compute_logs": {
            "module": "dagster_aws.s3.compute_log_manager",
            "class": values["computeLogManager"]["type"],
            "config": snake_keys(logs),
        },
        "run_monitoring": snake_keys(daemon["runMonitoring"]),
        "run_retries": snake_keys(daemon["runRetries"]),
        "concurrency": snake_keys(concurrency),
        "retention": snake_keys(retention),
        "telemetry": values["telemetry"],
    }


def validate_instance(config: dict, home: Path) -> dict:
    """Dagster's own loading path for a dagster.yaml, then each configurable class's
    config against that class's config schema (what the instance checks when it builds
    the class, here without building it: no cluster, no bucket)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    validated, _ = dagster_instance_config(str(home))
    for block in ("run_coordinator", "run_launcher", "compute_logs"):
        if block not in config:
            continue
        spec = config[block]
        klass = getattr(importlib.import_module(spec["module"]), spec["class"])
        result = validate_config(
            resolve_to_config_type(klass.config_type()), spec.get("config", {})
        )
        if not result.success:
            raise DagsterInvalidConfigError(f"{block}: {spec['class']}", result.errors, spec)
    return validated


def test_the_instance_the_chart_renders_is_valid_dagster_config(tmp_path: Path) -> None:
    validated = validate_instance(chart_instance(load_values()), tmp_path)
    assert validated["run_launcher"]["class"] == "K8sRunLauncher"
    assert validated["compute_logs"]["class"] == "S3ComputeLogManager"
    assert validated["concurrency"]["pools"] == {"default_limit": 1, "granularity": "op"}


def _launcher_typo(instance: dict) -> None:
    instance["run_launcher"]["config"]["env_secret"] = ["jobs-assets-secrets"]


def _launcher_without_instance_config_map(instance: dict) -> None:
    del instance["run_launcher"]["config"]["instance_config_map"]


def _compute_logs_without_bucket(instance: dict) -> None:
    del instance["compute_logs"]["config"]["bucket"]


def _retries_typo(instance: dict) -> None:
    instance["run_retries"]["max_retry"] = 2


def _monitoring_as_text(instance: dict) -> None:
    instance["run_monitoring"]["start_timeout_seconds"] = "five minutes"


def _pool_granularity(instance: dict) -> None:
    instance["concurrency"]["pools"]["granularity"] = "step"


@pytest.mark.parametrize(
    "break_it",
    [
        _launcher_typo,
        _launcher_without_instance_config_map,
        _compute_logs_without_bucket,
        _retries_typo,
        _monitoring_as_text,
        _pool_granularity,
    ],
)
def test_a_wrong_instance_block_fails_dagster_validation(
    tmp_path: Path, break_it: Callable[[dict], None]
) -> None:
    instance = chart_instance(load_values())
    break_it(instance)
    with pytest.raises(DagsterInvalidConfigError):
        validate_instance(instance, tmp_path)


def test_the_repository_dagster_yaml_is_valid_dagster_config(tmp_path: Path) -> None:
    config = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    validated = validate_instance(config, tmp_path)
    assert validated["run_launcher"]["class"] == "DockerRunLauncher"
    assert validated["run_coordinator"]["class"] == "QueuedRunCoordinator"


def test_kubernetes_keeps_the_production_run_policies() -> None:
    """The same monitoring, retries, queue and pools on Kubernetes as in docker-compose."""
    production = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    rendered = chart_instance(load_values())
    for block in ("run_monitoring", "run_retries", "concurrency", "retention", "telemetry"):
        assert rendered[block] == production[block], block


# --- Cross-checks between values, manifests, the image and the settings -----------------


def test_user_code_runs_the_image_command_of_deploy_dockerfile() -> None:
    (deployment,) = load_values()["dagster-user-deployments"]["deployments"]
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    cmd = json.loads(re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)[-1])
    assert cmd[:3] == ["dagster", "api", "grpc"]
    assert cmd[cmd.index("-p") + 1] == str(deployment["port"])
    assert cmd[cmd.index("-m") :] == deployment["dagsterApiGrpcArgs"]
    api = by_kind("Deployment")["jobs-assets-api"]
    image = deployment["image"]
    assert _api_container(api)["image"] == f"{image['repository']}:{image['tag']}"


def test_every_referenced_configmap_and_secret_is_provided() -> None:
    values = load_values()
    text = json.dumps(values) + json.dumps([d for _, d in manifest_documents()])
    config_maps = set(re.findall(r'"configMapRef": \{"name": "([^"]+)"', text))
    secrets = set(re.findall(r'"secretRef": \{"name": "([^"]+)"', text))
    for section in (
        values["dagsterWebserver"],
        values["dagsterDaemon"],
        values["runLauncher"]["config"]["k8sRunLauncher"],
        *values["dagster-user-deployments"]["deployments"],
    ):
        config_maps |= {r["name"] for r in section["envConfigMaps"]}
        secrets |= {r["name"] for r in section["envSecrets"]}
    secrets.add(values["global"]["postgresqlSecretName"])
    assert config_maps == set(by_kind("ConfigMap"))
    assert secrets == set(by_kind("Secret"))
    assert (
        "postgresql-password"
        in by_kind("Secret")[values["global"]["postgresqlSecretName"]]["stringData"]
    )


def test_secrets_hold_the_passwords_and_the_configmap_none() -> None:
    secrets = by_kind("Secret")
    pipeline = secrets["jobs-assets-secrets"]["stringData"]
    assert {
        "PGPASSWORD",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "JOBS_ALERT_WEBHOOK_URL",
    } <= set(pipeline)
    # the API's role, and the key every replica shares for the saved searches' rate limit
    # (without it each pod would count a client's creations apart, and forget on restart)
    assert set(secrets["jobs-assets-api-db"]["stringData"]) == {
        "PGUSER",
        "PGPASSWORD",
        "JOBS_SEARCH_CLIENT_KEY",
    }
    settings = by_kind("ConfigMap")["jobs-assets-settings"]["data"]
    assert not [k for k in settings if re.search(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|WEBHOOK", k)]
    # The API never gets the pipeline's Secret (AWS keys, the write role).
    api = _api_container(by_kind("Deployment")["jobs-assets-api"])
    assert {r["secretRef"]["name"] for r in api["envFrom"] if "secretRef" in r} == {
        "jobs-assets-api-db"
    }


def test_raw_lake_and_step_logs_share_one_bucket() -> None:
    settings = by_kind("ConfigMap")["jobs-assets-settings"]["data"]
    match = re.fullmatch(r"s3://([a-z0-9.-]+)/(.+)", settings["JOBS_STORAGE_URL"])
    assert match, settings["JOBS_STORAGE_URL"]
    logs = load_values()["computeLogManager"]["config"]["s3ComputeLogManager"]
    assert logs["bucket"] == match.group(1)
    assert settings["JOBS_REDIS_URL"].startswith("redis://jobs-assets-redis:")


def test_the_configmap_names_only_known_settings() -> None:
    from jobs_assets_tests.test_deploy import documented_settings

    settings = by_kind("ConfigMap")["jobs-assets-settings"]["data"]
    known = documented_settings() | {"JOBS_STORAGE_URL", "JOBS_REDIS_URL", "JOBS_DATA_DIR"}
    jobs = {k for k in settings if k.startswith("JOBS_")}
    assert jobs <= known
    assert {k for k in settings if not k.startswith("JOBS_")} <= {
        "PGHOST",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGSSLMODE",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
    }


def test_one_step_per_source_api_across_runs() -> None:
    """Pools are not listed one by one: the default limit of 1 covers every `api_<source>`
    pool a raw asset declares, including sources added later."""
    from jobs_assets.defs.ingestion.assets import raw_assets

    pools = {asset.node_def.pool for asset in raw_assets}
    assert pools and pools <= SOURCE_POOLS
    assert load_values()["concurrency"]["pools"]["defaultLimit"] == 1


def test_run_limits_are_set_in_one_place_only() -> None:
    """The chart refuses to render when `concurrency.runs` and the run coordinator's own
    config both set a run limit; ours live under `concurrency` only."""
    values = load_values()
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert values["concurrency"]["enabled"] is True
    assert values["concurrency"]["runs"]["maxConcurrentRuns"] >= 1
    assert "maxConcurrentRuns" not in queued and "tagConcurrencyLimits" not in queued


def test_a_database_outage_makes_the_api_unready_but_never_restarts_it() -> None:
    """The probes' paths against the real app with a database that does not answer:
    liveness must pass (the process is fine), readiness must fail (no data to serve)."""
    import socket

    from fastapi.testclient import TestClient

    from jobs_assets.api.app import create_app

    container = _api_container(by_kind("Deployment")["jobs-assets-api"])
    liveness = container["livenessProbe"]["httpGet"]["path"]
    readiness = container["readinessProbe"]["httpGet"]["path"]
    with socket.socket() as sock:  # a port nothing listens on: the database is down
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(conninfo=f"host=127.0.0.1 port={port} dbname=none connect_timeout=1")
    with TestClient(app) as client:
        assert client.get(liveness).status_code == 200, liveness
        assert client.get(readiness).status_code == 503, readiness


def test_each_component_gets_only_the_secrets_it_uses() -> None:
    values = load_values()
    secrets = by_kind("Secret")
    settings = by_kind("ConfigMap")["jobs-assets-settings"]["data"]
    # the webserver: a key to read the step logs, nothing of the database or the webhook
    assert values["dagsterWebserver"]["envSecrets"] == [{"name": "jobs-assets-compute-logs"}]
    assert set(secrets["jobs-assets-compute-logs"]["stringData"]) == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    }
    # the daemon hands Secrets to run pods by name; it reads none itself
    assert values["dagsterDaemon"]["envSecrets"] == []
    # the code server and the run pods: the pipeline role, which only checks the schema
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    for section in (deployment, launcher):
        assert section["envSecrets"] == [{"name": "jobs-assets-secrets"}]
    owner = secrets["jobs-assets-schema-owner"]["stringData"]
    assert settings["PGUSER"] == "jobs_pipeline" != owner["PGUSER"]
    assert settings["JOBS_MIGRATE"] == "check"
    # the schema owner: the migrate Job only, in the user-code image, running the CLI
    users = [
        name
        for name, doc in manifest_documents()
        if doc["kind"] != "Secret" and '"jobs-assets-schema-owner"' in json.dumps(doc)
    ]
    assert users == ["migrate-job.yaml:Job/jobs-assets-migrate"]
    assert "jobs-assets-schema-owner" not in json.dumps(values)
    job = by_kind("Job")["jobs-assets-migrate"]["spec"]["template"]["spec"]
    (container,) = job["containers"]
    assert container["command"] == ["python", "-m", "jobs_assets.cli", "migrate"]
    image = deployment["image"]
    assert container["image"] == f"{image['repository']}:{image['tag']}"
    assert container["envFrom"][-1] == {"secretRef": {"name": "jobs-assets-schema-owner"}}
