"""Compiled Kubeflow pipelines (KFP v2 IR YAML, what ``kfp.compiler`` writes).

Each container task is a job. Its inputs are its input artifacts, followed to the task that really
produces them: through sub-DAGs (conditions, loops, exit handlers, nested pipelines), whose
``componentInputArtifact`` names the parent task's input and whose ``dag.outputs`` selectors name the
producing subtask; an importer's artifact is its URI. URI-valued parameters (constants, or pipeline
defaults passed down through sub-DAGs) are inputs too. Its outputs are its own artifacts, named
``<defaultPipelineRoot>/<pipeline>/<task>/<key>`` (``file`` ``kfp/<pipeline>/<task>/<key>`` without a
root), URI parameters named like outputs, and a registered model when a parameter names one.

Resolution is memoised per (DAG instance, task, key), so a pipeline of hundreds of KB (Vertex AutoML's
run ~500 KB, dozens of nested conditions) is walked once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowscope import naming
from flowscope.model import Asset, Job, SourceLocation, Transformation
from flowscope_ml_config.links import Found, Link, Scope, guarded
from flowscope_ml_config.source import Doc, KeyPath, dotted, get, tick

STEP = Transformation("DIRECT", "TRANSFORMATION")
_OUT_WORDS = ("output", "dest", "export", "sink")


def is_kubeflow(data: Any) -> bool:
    return (
        isinstance(data, Mapping) and "pipelineInfo" in data and ("root" in data or "deploymentSpec" in data)
    )


def _uri_like(value: Any) -> bool:
    return isinstance(value, str) and ("://" in value or value.startswith("bigquery:"))


@dataclass
class _Dag:
    """One DAG instance: the root, or a sub-DAG task (with the parent task that feeds it)."""

    path: tuple[str, ...]
    spec: Mapping[str, Any]  # the component (or root) holding ``dag``
    at: KeyPath  # key path of its ``dag`` in the document
    parent: _Dag | None = None
    task: Mapping[str, Any] = field(default_factory=dict)  # the parent's task spec that runs this DAG

    @property
    def tasks(self) -> Mapping[str, Any]:
        tasks = get(self.spec, "dag", "tasks")
        return tasks if isinstance(tasks, Mapping) else {}


class _Walker:
    def __init__(self, doc: Doc, rel: str, scope: Scope, found: Found) -> None:
        self.doc, self.rel, self.scope, self.found = doc, rel, scope, found
        data = doc.data
        self.pipeline = str(get(data, "pipelineInfo", "name") or "pipeline")
        self.root_uri = str(data.get("defaultPipelineRoot") or "").rstrip("/")
        comps = data.get("components")
        self.components: Mapping[str, Any] = comps if isinstance(comps, Mapping) else {}
        execs = get(data, "deploymentSpec", "executors")
        self.executors: Mapping[str, Any] = execs if isinstance(execs, Mapping) else {}
        self.memo: dict[tuple[tuple[str, ...], str, str], list[Asset]] = {}
        self.children: dict[tuple[str, ...], _Dag] = {}
        self.visiting: set[tuple[tuple[str, ...], str, str]] = set()

    def artifact(self, task: str, key: str) -> Asset:
        if self.root_uri:
            named = guarded(
                self.found,
                1,
                lambda: self.scope.names.dataset(f"{self.root_uri}/{self.pipeline}/{task}/{key}"),
            )
            if named is not None:
                return named
        return Asset("file", f"kfp/{self.pipeline}/{task}/{key}")

    def component(self, task: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        name = str(get(task, "componentRef", "name") or "")
        comp = self.components.get(name)
        return name, comp if isinstance(comp, Mapping) else {}

    def child(self, dag: _Dag, tname: str) -> _Dag | None:
        key = (*dag.path, tname)
        if key not in self.children:
            task = dag.tasks.get(tname)
            if not isinstance(task, Mapping):
                return None
            name, comp = self.component(task)
            if "dag" not in comp:
                return None
            self.children[key] = _Dag(key, comp, ("components", name, "dag"), dag, task)
        return self.children[key]

    def outputs(self, dag: _Dag, tname: str, key: str) -> list[Asset]:
        """The assets behind output ``key`` of task ``tname`` in ``dag`` (followed into sub-DAGs)."""
        memo = (dag.path, tname, key)
        if memo in self.memo:
            return self.memo[memo]
        if memo in self.visiting:  # a malformed (cyclic) pipeline: stop rather than loop
            return []
        self.visiting.add(memo)
        tick()
        out: list[Asset] = []
        task = dag.tasks.get(tname)
        if isinstance(task, Mapping):
            _, comp = self.component(task)
            sub = self.child(dag, tname)
            if sub is not None:
                selectors = get(comp, "dag", "outputs", "artifacts", key, "artifactSelectors")
                for sel in selectors if isinstance(selectors, list) else []:
                    producer, pkey = get(sel, "producerSubtask"), get(sel, "outputArtifactKey")
                    if producer and pkey:
                        out += self.outputs(sub, str(producer), str(pkey))
            elif self.importer(comp) is not None:
                out.append(self.imported(dag, tname, task, comp))
            else:
                out.append(self.artifact(tname, key))
        self.visiting.discard(memo)
        self.memo[memo] = out
        return out

    def importer(self, comp: Mapping[str, Any]) -> Mapping[str, Any] | None:
        spec = get(self.executors, str(comp.get("executorLabel") or ""), "importer")
        return spec if isinstance(spec, Mapping) else None

    def imported(self, dag: _Dag, tname: str, task: Mapping[str, Any], comp: Mapping[str, Any]) -> Asset:
        """An importer's artifact is the URI it imports (a constant, or the parameter it names)."""
        spec = self.importer(comp) or {}
        uri: Any = get(spec, "artifactUri", "constant")
        runtime = get(spec, "artifactUri", "runtimeParameter")
        if uri is None and runtime is not None:
            uri = self.param(dag, get(task, "inputs", "parameters", str(runtime)))
        if isinstance(uri, str) and uri.strip():
            named = guarded(self.found, 1, lambda: self.scope.names.dataset(uri))
            if named is not None:
                return named
        return self.artifact(tname, "artifact")

    def input_artifacts(self, dag: _Dag, task: Mapping[str, Any]) -> dict[str, list[Asset]]:
        out: dict[str, list[Asset]] = {}
        arts = get(task, "inputs", "artifacts")
        for name, spec in arts.items() if isinstance(arts, Mapping) else []:
            producer = get(spec, "taskOutputArtifact", "producerTask")
            key = get(spec, "taskOutputArtifact", "outputArtifactKey")
            if producer and key:
                out[str(name)] = self.outputs(dag, str(producer), str(key))
            elif get(spec, "componentInputArtifact") is not None:
                out[str(name)] = self.dag_input(dag, str(spec["componentInputArtifact"]))
        return out

    def dag_input(self, dag: _Dag, name: str) -> list[Asset]:
        if dag.parent is None:  # a pipeline input artifact, given at run time
            return [self.artifact("inputs", name)]
        return self.input_artifacts(dag.parent, dag.task).get(name, [])

    def param(self, dag: _Dag, spec: Any) -> Any:
        """A parameter's value when the pipeline says it: a constant or an input with a default."""
        if not isinstance(spec, Mapping):
            return None
        if get(spec, "runtimeValue", "constant") is not None:
            return spec["runtimeValue"]["constant"]
        name = spec.get("componentInputParameter")
        if name is None:
            return None
        if dag.parent is None:
            return get(self.doc.data, "root", "inputDefinitions", "parameters", str(name), "defaultValue")
        return self.param(dag.parent, get(dag.task, "inputs", "parameters", str(name)))

    def walk(self) -> None:
        root = _Dag((), self.doc.data.get("root") or {}, ("root",))
        stack = [root]
        while stack:
            dag = stack.pop()
            for tname, task in dag.tasks.items():
                tick()
                if not isinstance(task, Mapping):
                    continue
                sub = self.child(dag, str(tname))
                if sub is not None:
                    stack.append(sub)
                    continue
                name, comp = self.component(task)
                if self.importer(comp) is None:
                    self.task_links(dag, str(tname), task, name, comp)

    def task_links(
        self, dag: _Dag, tname: str, task: Mapping[str, Any], comp_name: str, comp: Mapping[str, Any]
    ) -> None:
        doc, names = self.doc, self.scope.names
        at: KeyPath = (*dag.at, "tasks", tname)
        job = Job(
            naming.job_namespace("ml_config"), f"{self.pipeline}.{tname}", job_type="PIPELINE_TASK",
            source=SourceLocation(self.rel),
        )  # fmt: skip
        inputs: list[tuple[KeyPath, Asset]] = []
        outputs: list[tuple[KeyPath, Asset]] = []
        params = get(task, "inputs", "parameters")
        for pname, spec in params.items() if isinstance(params, Mapping) else []:
            ppath = (*at, "inputs", "parameters", str(pname))
            value = self.param(dag, spec)
            lowered = str(pname).lower()
            if (
                ("model_name" in lowered or "registered_model" in lowered)
                and isinstance(value, str)
                and value
            ):
                model = guarded(self.found, doc.line(ppath), lambda v=value: names.model(v))  # type: ignore[misc]
                if model is not None:
                    outputs.append((ppath, model))
            elif _uri_like(value):
                ds = guarded(self.found, doc.line(ppath), lambda v=value: names.dataset(v))  # type: ignore[misc]
                if ds is not None:
                    (outputs if any(w in lowered for w in _OUT_WORDS) else inputs).append((ppath, ds))
        for aname, assets in self.input_artifacts(dag, task).items():
            inputs += [((*at, "inputs", "artifacts", aname), a) for a in assets]
        keys = get(comp, "outputDefinitions", "artifacts")
        for key in keys if isinstance(keys, Mapping) else []:
            outputs.append(((*at, "componentRef"), self.artifact(tname, str(key))))
        seen: set[tuple[Asset, Asset | None]] = set()
        for ipath, src in inputs:
            line = doc.line(ipath)
            snippet = f"{tname}: {dotted(ipath[-2:])} = {src}"
            targets: list[Asset | None] = [d for _, d in outputs] or [None]
            for dst in targets:
                if (src, dst) in seen or src == dst:
                    continue
                seen.add((src, dst))
                self.found.add(Link(job, src, dst, dotted(ipath), line, snippet, STEP))


def parse_kubeflow(doc: Doc, rel: str, scope: Scope, found: Found) -> None:
    if not isinstance(get(doc.data, "root", "dag", "tasks"), Mapping):
        found.problem("Kubeflow pipeline without root.dag.tasks", doc.line(("root",)))
        return
    _Walker(doc, rel, scope, found).walk()
