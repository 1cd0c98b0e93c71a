# Learning stage: one run per task x model x seed (results/models/{task}/{model}/seed{seed}/).
# threads and a GPU resource (only when train.device is cuda) let SLURM place the job; last.pt is
# not a declared output, so a killed job resumes after its last completed epoch when re-run.

TRAIN_TASKS = "distance|epicentre|magnitude|detection"
TRAIN_MODELS = "smallcnn|resnet18|resnet50|convnext_tiny|vit_base_patch16_224"
# Resources: GPU only when the config asks for CUDA; memory/runtime scale with the model size.
TRAIN_GPU = {"gpu": 1} if config["train"]["device"] == "cuda" else {}
# Settings that change a run's result; tasks/models/seeds only choose which runs exist, and threads /
# loader workers do not change results (worker seeds and augmentation draws are per patch and epoch),
# so they are kept out of params: adding a seed adds jobs without re-running the existing ones.
TRAIN_NOT_RESULT_KEYS = ("tasks", "models", "seeds", "threads", "num_workers")
TRAIN_PARAMS = {k: v for k, v in config["train"].items() if k not in TRAIN_NOT_RESULT_KEYS}
TRAIN_MEM_MB = {"smallcnn": 2000, "resnet18": 4000, "resnet50": 8000, "convnext_tiny": 8000, "vit_base_patch16_224": 12000}

TRAIN_TARGETS = expand(
    res("models/{task}/{model}/seed{seed}/metrics.json"),
    task=config["train"]["tasks"],
    model=config["train"]["models"],
    seed=config["train"]["seeds"],
)


rule train:
    """Train one model on the dataset's train split, select the best epoch on val, evaluate on test
    (patch and event level, baselines, bootstrap CIs), write predictions, curves and figures."""
    input:
        index=res("dataset/index.csv"),
        norm=res("dataset/norm_stats.json"),
        splits=res("dataset/splits.json"),
    output:
        checkpoint=res("models/{task}/{model}/seed{seed}/checkpoint.pt"),
        metrics=res("models/{task}/{model}/seed{seed}/metrics.json"),
        predictions=res("models/{task}/{model}/seed{seed}/predictions.csv"),
        history=res("models/{task}/{model}/seed{seed}/history.csv"),
        curves=report(
            res("models/{task}/{model}/seed{seed}/curves.png"),
            caption="../report/curves.rst",
            category="Training curves",
            subcategory="{task}",
            labels={"task": "{task}", "model": "{model}", "seed": "{seed}"},
        ),
        error_vs_distance=report(
            res("models/{task}/{model}/seed{seed}/error_vs_distance.png"),
            caption="../report/error_vs_distance.rst",
            category="Errors",
            subcategory="{task}",
            labels={"task": "{task}", "model": "{model}", "seed": "{seed}", "figure": "error vs distance"},
        ),
        error_vs_magnitude=report(
            res("models/{task}/{model}/seed{seed}/error_vs_magnitude.png"),
            caption="../report/error_vs_magnitude.rst",
            category="Errors",
            subcategory="{task}",
            labels={"task": "{task}", "model": "{model}", "seed": "{seed}", "figure": "error vs magnitude"},
        ),
    wildcard_constraints:
        task=TRAIN_TASKS,
        model=TRAIN_MODELS,
        seed=r"\d+",
    params:
        cfg=TRAIN_PARAMS,
        ranking_lambda=None,
    threads: config["train"]["threads"]
    resources:
        mem_mb=lambda wc: TRAIN_MEM_MB[wc.model],
        runtime=lambda wc: 30 if wc.model == "smallcnn" else 240,
        **TRAIN_GPU,
    log:
        "logs/train/{task}/{model}/seed{seed}.log",
    benchmark:
        res("benchmarks/train/{task}/{model}/seed{seed}.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/train.py"
