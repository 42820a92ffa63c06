"""Languages, tier schemes, prompt sources and translators for the harness.

Everything here is plain Python until a translator is loaded: importing this
package never imports torch, transformers or datasets.
"""
