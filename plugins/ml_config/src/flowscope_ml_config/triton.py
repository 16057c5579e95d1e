"""Triton Inference Server model repositories: ``<repository>/<model>/config.pbtxt``.

A model is served from its folder (the version sub-folders hold the weights) at
``/v2/models/<name>/infer``; its tensors are the endpoint's fields. An ensemble serves what its steps
compute: each step's model feeds the ensemble, and a step whose output tensor is another step's input
feeds that step.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from flowscope import naming
from flowscope.model import Asset, AssetInfo, Job, SourceLocation, Transformation
from flowscope_ml_config import pbtxt
from flowscope_ml_config.links import Found, Link, Scope, guarded

INFER = Transformation("DIRECT", "TRANSFORMATION")


def service(name: str) -> Asset:
    return naming.service(name, f"/v2/models/{name}/infer")


def _line(text: str, needle: str) -> int:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def parse_triton(text: str, rel: str, scope: Scope, found: Found) -> None:
    config = pbtxt.parse(text)
    folder = PurePosixPath(rel).parent
    name = str(pbtxt.one(config, "name") or folder.name or "model")
    target = service(name)
    job = Job(
        target.namespace, "infer", job_type="SERVING", processing_type="STREAMING", source=SourceLocation(rel)
    )
    tensors = [str(pbtxt.one(t, "name")) for t in pbtxt.all_of(config, "input") + pbtxt.all_of(config, "output")
               if pbtxt.one(t, "name") is not None]  # fmt: skip
    found.infos.append(AssetInfo(target, tuple((t, "") for t in tensors), (), ""))
    steps = pbtxt.all_of(pbtxt.one(config, "ensemble_scheduling"), "step")
    if str(pbtxt.one(config, "platform") or "") != "ensemble" and not steps:
        weights = guarded(found, 1, lambda: scope.names.file(str(folder)))
        if weights is not None:
            found.add(
                Link(
                    job,
                    weights,
                    target,
                    "name",
                    _line(text, "name"),
                    f"model repository folder {folder}",
                    INFER,
                )
            )
        return
    produced: dict[str, str] = {}  # ensemble tensor -> the step model writing it
    for step in steps:
        model = str(pbtxt.one(step, "model_name") or "")
        for pair in pbtxt.all_of(step, "output_map"):
            produced[str(_value(pair))] = model
    for step in steps:
        model = str(pbtxt.one(step, "model_name") or "")
        if not model:
            continue
        line = _line(text, f'"{model}"')
        found.add(Link(job, service(model), target, "ensemble_scheduling.step", line, f"step {model}", INFER))
        for pair in pbtxt.all_of(step, "input_map"):
            upstream = produced.get(str(_value(pair)))
            if upstream and upstream != model:
                step_job = Job(
                    target.namespace, f"step.{model}", job_type="SERVING", source=SourceLocation(rel)
                )
                found.add(Link(step_job, service(upstream), service(model), "ensemble_scheduling.step.input_map",
                               line, f"{model} <- {upstream}", INFER))  # fmt: skip


def _value(pair: Any) -> Any:
    return pbtxt.one(pair, "value")
