"""GENERATED ANTLR4 parser for ADQL 2.1 (vo/adql/grammar/regen.sh). Do not edit."""
