"""CLI sub-commands, one module per group; each exposes ``register(subparsers)``.

Modules here import only argparse-level things at top; their handlers import services lazily.
"""
