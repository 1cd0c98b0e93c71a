# Planning helpers of the learning rules (train.smk, ablation.smk, report.smk): the declared outputs of a
# training run directory and which run directory an ablation (lambda, seed) point is. Functions only (the
# rule files hold rules only, as `snakemake --lint` asks); it needs `config` and `res` (common.smk).
ABLATION_SEEDS = config["ablation"]["seeds"] or config["train"]["seeds"]
ABLATION_EPOCHS = config["ablation"]["epochs"]
_ABLATION_SHARES = (ABLATION_EPOCHS in (None, config["train"]["epochs"]) and config["ablation"]["model"] in config["train"]["models"])
RUN_OUTPUTS = ("checkpoint.pt", "metrics.json", "predictions.csv", "events.csv", "val_events.csv", "history.csv")


def run_outputs(estimator):
    """The declared outputs of a training run directory (figures are listed in metrics.json)."""
    return {f.split(".")[0]: res(f"models/{estimator}/{{model}}/{{run}}/{f}") for f in RUN_OUTPUTS}


def ablation_run(lam, seed):
    """The run directory of (lambda, seed): the main run when it coincides with one, else lambda{L}_seed{N}."""
    model = config["ablation"]["model"]
    if _ABLATION_SHARES and float(lam) == float(config["train"]["ranking_lambda"]) and seed in config["train"]["seeds"]:
        return res(f"models/gated/{model}/seed{seed}")
    return res(f"models/gated/{model}/lambda{float(lam):g}_seed{seed}")
