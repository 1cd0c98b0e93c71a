# Learning stage (docs/learning.md): the gated multi-task patch model (rule `train`) and the event-set
# model on its embeddings (rule `train_set`), one run per model x seed:
#   results/models/gated/{model}/seed{seed}/   results/models/set/{model}/seed{seed}/
# Training data: the dataset's train split plus the training-data tier (trainingset.smk); validation and
# test: the dataset's full-pipeline val/test events. last.pt is not a declared output: a killed job resumes
# after its last completed epoch when re-run with the same settings and data (a changed dataset starts afresh).

TRAIN_MODELS = "smallcnn|resnet18|resnet50|convnext_tiny|vit_base_patch16_224"
TRAIN_GPU = {"gpu": 1} if config["train"]["device"] == "cuda" else {}
# Settings that change a run's result; estimators/models/seeds only choose which runs exist, and threads /
# loader workers do not change results, so they are kept out of params: adding a seed adds jobs without
# re-running the existing ones.
TRAIN_NOT_RESULT_KEYS = ("estimators", "models", "seeds", "threads", "num_workers")
TRAIN_PARAMS = {k: v for k, v in config["train"].items() if k not in TRAIN_NOT_RESULT_KEYS}
TRAIN_MEM_MB = {"smallcnn": 6000, "resnet18": 8000, "resnet50": 12000, "convnext_tiny": 12000, "vit_base_patch16_224": 16000}
_TRAIN_ESTIMATORS = list(config["train"]["estimators"])

TRAIN_TARGETS = expand(
    res("models/{estimator}/{model}/seed{seed}/metrics.json"),
    estimator=_TRAIN_ESTIMATORS,
    model=config["train"]["models"],
    seed=config["train"]["seeds"],
)



rule train:
    """Train the gated multi-task patch model (detection, image-frame epicentre offset, magnitude), select
    the epoch on the validation events, answer the test events (events.csv) with baselines and CIs."""
    input:
        index=res("dataset/index.csv"),
        splits=res("dataset/splits.json"),
        trainingset=TRAININGSET_INDEX,
    output:
        **run_outputs("gated"),
    wildcard_constraints:
        model=TRAIN_MODELS,
        run=r"(lambda[0-9.]+(e-?[0-9]+)?_)?seed\d+",
    params:
        cfg=TRAIN_PARAMS,
        epochs_override=lambda wc: ABLATION_EPOCHS if wc.run.startswith("lambda") else None,
    threads: config["train"]["threads"]
    resources:
        mem_mb=lambda wc: TRAIN_MEM_MB[wc.model],
        runtime=lambda wc: 60 if wc.model == "smallcnn" else 480,
        **TRAIN_GPU,
    log:
        "logs/train/gated/{model}/{run}.log",
    benchmark:
        res("benchmarks/train/gated/{model}/{run}.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/train.py"


rule train_set:
    """Train the event-set model (gated-attention pooling over an event's patch embeddings and positions)
    on the frozen gated model of the same model and seed; answer the test events."""
    input:
        gated=res("models/gated/{model}/{run}/checkpoint.pt"),
        index=res("dataset/index.csv"),
        trainingset=TRAININGSET_INDEX,
    output:
        **run_outputs("set"),
    wildcard_constraints:
        model=TRAIN_MODELS,
        run=r"seed\d+",
    params:
        cfg=TRAIN_PARAMS,
    threads: config["train"]["threads"]
    resources:
        mem_mb=lambda wc: TRAIN_MEM_MB[wc.model],
        runtime=lambda wc: 30 if wc.model == "smallcnn" else 240,
    log:
        "logs/train/set/{model}/{run}.log",
    benchmark:
        res("benchmarks/train/set/{model}/{run}.tsv")
    conda:
        "../../envs/learning.yaml"
    script:
        "../scripts/train_set.py"
