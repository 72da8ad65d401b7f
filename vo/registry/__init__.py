"""Publishing registry (L4; planned: VOResource over OAI-PMH, RegTAP tables). Empty so far."""
