"""Optuna's NSGAIISampler driving `nas eval`: Optuna asks, nas evaluates.

Every proposal becomes a `nas eval --study NAME` call, so its trials land in the
same store as nas's own studies and `nas pareto` scores them with the same
hypervolume. Optuna's parameters mirror the space file: depth, d_model, MLP
ratio, shared attention, and per layer slot its type, heads, window, state size
and expand (slots past the depth are unused). Proposals outside the space
(attention ratio, patterns) are told to Optuna as pruned; they count against its
budget, as any wasted ask would.

usage: python3 optuna_nsga2.py --nas target/release/nas --storage DB --study NAME
       [--space search_spaces/hybrid.toml] [--trials 200] [--seed 0]
"""
import argparse
import json
import subprocess
import tomllib

import optuna


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nas", required=True)
    ap.add_argument("--storage", required=True)
    ap.add_argument("--study", required=True)
    ap.add_argument("--space", default="search_spaces/hybrid.toml")
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with open(a.space, "rb") as f:
        space = tomllib.load(f)
    model, attn, ssm = space["model"], space["attention"], space["ssm"]
    depth_max = max(model["depth"])
    outside = 0

    def objective(trial):
        nonlocal outside
        depth = trial.suggest_categorical("depth", model["depth"])
        d = trial.suggest_categorical("d_model", model["d_model"])
        mlp = trial.suggest_categorical("mlp_ratio", model["mlp_ratio"])
        shared = trial.suggest_categorical("shared", attn["shared"])
        tokens = [f"d{d}"] + ([f"m{mlp}"] if mlp != 4 else [])
        first_attn = None
        for i in range(depth_max):
            kind = trial.suggest_categorical(f"type{i}", ["S", "A"])
            heads = trial.suggest_categorical(f"heads{i}", attn["heads"])
            window = trial.suggest_categorical(f"window{i}", attn["window"])
            state = trial.suggest_categorical(f"state{i}", ssm["state_dim"])
            expand = trial.suggest_categorical(f"expand{i}", ssm["expand"])
            if i >= depth:
                continue
            if kind == "A":
                if shared:
                    # One shared weight set: every attention layer as the first.
                    first_attn = first_attn or (heads, window)
                    heads, window = first_attn
                tok = f"A{heads}" + (f"w{window}" if window else "") + ("*" if shared else "")
            else:
                tok = f"S{state}" + (f"e{expand}" if expand != 2 else "")
            tokens.append(tok)
        arch = " ".join(tokens)
        out = subprocess.run(
            [a.nas, "--threads", "1", "eval", "--space", a.space, "--arch", arch, "--evaluator",
             "analytic", "--study", a.study, "--storage", a.storage, "--trials", str(a.trials),
             "--seed", str(a.seed)],
            capture_output=True, text=True)
        line = json.loads(out.stdout.strip().splitlines()[-1])
        if not line["in_space"]:
            outside += 1
            raise optuna.TrialPruned(line["reason"])
        return tuple(line["values"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["minimize", "minimize"],
                                sampler=optuna.samplers.NSGAIISampler(seed=a.seed))
    study.optimize(objective, n_trials=a.trials)
    print(json.dumps({"study": a.study, "asked": a.trials, "outside_space": outside}))


if __name__ == "__main__":
    main()
