"""OPT model variants (base, SFT, DPO, SFT+DPO) for the harness: training with TRL and greedy generation."""
