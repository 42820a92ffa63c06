"""Any Hugging Face causal LM as a model variant: declared in a suite or named as ``hf:ID``, its chat
template, recipes for any base, and tiny offline families of several architectures."""
