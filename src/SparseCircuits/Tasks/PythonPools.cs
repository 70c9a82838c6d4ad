namespace SparseCircuits.Tasks;

/// <summary>
/// Word lists the generators draw names and values from. All identifiers are plain ASCII
/// snake_case; message words end in a letter so a string can be cut off after any of them.
/// </summary>
internal static class PythonPools
{
    /// <summary>Collection names with their element name, for <c>for row in rows</c>.</summary>
    public static readonly (string One, string Many)[] Collections =
    [
        ("item", "items"), ("value", "values"), ("result", "results"), ("record", "records"), ("row", "rows"),
        ("line", "lines"), ("word", "words"), ("token", "tokens"), ("user", "users"), ("path", "paths"),
        ("name", "names"), ("key", "keys"), ("entry", "entries"), ("node", "nodes"), ("edge", "edges"),
        ("event", "events"), ("task", "tasks"), ("job", "jobs"), ("message", "messages"), ("score", "scores"),
        ("label", "labels"), ("sample", "samples"), ("point", "points"), ("image", "images"), ("batch", "batches"),
        ("chunk", "chunks"), ("part", "parts"), ("field", "fields"), ("column", "columns"), ("tag", "tags"),
        ("url", "urls"), ("number", "numbers"), ("weight", "weights"), ("option", "options"), ("query", "queries"),
        ("request", "requests"), ("order", "orders"), ("product", "products"), ("customer", "customers"),
        ("account", "accounts"), ("document", "documents"), ("page", "pages"), ("block", "blocks"), ("frame", "frames"),
        ("layer", "layers"), ("feature", "features"), ("target", "targets"), ("error", "errors"), ("match", "matches"),
        ("group", "groups"), ("pair", "pairs"), ("step", "steps"), ("rule", "rules"), ("package", "packages"),
        ("module", "modules"), ("command", "commands"), ("child", "children"), ("neighbor", "neighbors"),
        ("candidate", "candidates"), ("segment", "segments"), ("comment", "comments"), ("post", "posts"),
        ("book", "books"), ("student", "students"), ("employee", "employees"), ("city", "cities"), ("color", "colors"),
        ("price", "prices"), ("date", "dates"), ("player", "players"), ("card", "cards"), ("move", "moves"),
        ("cell", "cells"), ("tile", "tiles"), ("vertex", "vertices"), ("element", "elements"), ("member", "members"),
        ("server", "servers"), ("host", "hosts"), ("device", "devices"), ("reading", "readings"), ("worker", "workers"),
        ("file", "files"), ("folder", "folders"), ("char", "chars"), ("digit", "digits"), ("letter", "letters"),
        ("shape", "shapes"), ("box", "boxes"), ("edit", "edits"), ("update", "updates"), ("handler", "handlers"),
        ("song", "songs"), ("movie", "movies"), ("invoice", "invoices"), ("ticket", "tickets"), ("review", "reviews"),
    ];

    /// <summary>Scalar-looking variable names.</summary>
    public static readonly string[] Variables =
    [
        "count", "total", "index", "offset", "size", "length", "width", "height", "limit", "threshold", "score", "name",
        "path", "key", "value", "text", "message", "status", "mode", "level", "timeout", "retries", "delay", "rate",
        "factor", "ratio", "label", "prefix", "suffix", "buffer", "result", "output", "response", "data", "config",
        "state", "current", "previous", "target", "source", "start", "end", "best", "first", "last", "left", "right",
        "low", "high", "mid", "alpha", "beta", "epsilon", "temp", "tmp", "val", "num", "acc", "total_count", "max_len",
        "min_val", "num_items", "batch_size", "file_name", "user_id", "base_url", "api_key", "cache_dir", "max_size",
        "line_no", "page_size", "learning_rate", "seed", "depth", "radius", "angle", "speed", "balance", "amount",
        "price", "quantity", "age", "year", "month", "day", "hour", "counter", "cursor", "position", "node", "parent",
        "root", "head", "tail", "queue", "stack", "cache", "lookup", "mapping", "table", "matrix", "vector", "grid",
        "board", "window", "header", "footer", "title", "body", "content", "payload", "token", "session", "client",
        "conn", "db", "query", "row", "record", "entry", "item", "element", "pattern", "regex", "fmt", "template",
        "encoding", "delimiter", "separator", "extension", "directory", "folder", "url", "host", "port", "address",
        "email", "username", "password", "user", "group", "role", "score_sum", "avg", "mean", "std", "loss", "accuracy",
        "x", "y", "z", "n", "m", "a", "b", "c", "w", "h", "dx", "dy", "x0", "y1", "n_rows", "n_cols",
    ];

    /// <summary>Names used only as flags (booleans).</summary>
    public static readonly string[] Flags =
    [
        "done", "found", "ready", "valid", "enabled", "verbose", "debug", "running", "finished", "changed", "dirty",
        "visible", "active", "is_valid", "is_empty", "is_ready", "has_error", "success", "ok", "stopped", "paused",
        "loaded", "connected", "use_cache", "dry_run", "force", "strict", "quiet", "overwrite", "is_admin", "matched",
    ];

    public static readonly string[] Verbs =
    [
        "load", "save", "parse", "process", "compute", "build", "get", "set", "update", "read", "write", "fetch", "send",
        "handle", "check", "validate", "create", "make", "find", "filter", "format", "convert", "normalize", "split",
        "merge", "run", "train", "evaluate", "render", "init", "reset", "clean", "collect", "count", "sort", "apply",
        "encode", "decode", "download", "upload", "register", "resolve", "extract", "prepare", "summarize", "print",
        "show", "draw", "scan", "sync", "copy", "move", "delete", "add", "remove", "insert", "search", "score", "rank",
        "group", "map", "reduce", "transform", "generate", "export", "import", "dump", "store", "restore", "refresh",
    ];

    public static readonly string[] Nouns =
    [
        "config", "data", "file", "user", "results", "items", "args", "request", "response", "model", "report", "text",
        "line", "path", "table", "cache", "tokens", "batch", "image", "message", "record", "records", "page", "url",
        "json", "summary", "stats", "scores", "options", "settings", "header", "rows", "matrix", "graph", "tree", "node",
        "queue", "events", "logs", "metrics", "labels", "features", "weights", "state", "session", "order", "orders",
        "invoice", "account", "accounts", "board", "grid", "frame", "dataset", "input", "output", "values", "words",
    ];

    public static readonly string[] ClassStems =
    [
        "Config", "Manager", "Parser", "Handler", "Client", "Server", "Reader", "Writer", "Loader", "Builder", "Model",
        "Node", "Tree", "Graph", "Cache", "Queue", "Stack", "Buffer", "Logger", "Worker", "Task", "Job", "Session",
        "Request", "Response", "User", "Account", "Order", "Item", "Product", "Game", "Player", "Board", "Vector",
        "Matrix", "Point", "Rect", "Shape", "Animal", "Car", "Student", "Bank", "Inventory", "Library", "Book", "Engine",
        "Pipeline", "Dataset", "Trainer", "Tokenizer", "Plugin", "Widget", "Window", "App", "Service", "Repository",
        "Controller", "View", "Event", "Timer", "Counter", "Record", "Employee", "Customer", "Invoice", "Ticket",
    ];

    public static readonly string[] ClassPrefixes =
    [
        "", "", "", "Data", "File", "Http", "Json", "Text", "Image", "Simple", "Base", "Custom", "Default", "Remote",
        "Local", "Async", "Batch", "Event", "Config", "Task", "User", "Game", "Stream", "Cached", "Linked", "Binary",
    ];

    /// <summary>Words for string literals and comments; all end in a letter.</summary>
    public static readonly string[] Words =
    [
        "the", "a", "new", "old", "file", "data", "value", "error", "warning", "done", "loading", "saving", "processing",
        "found", "missing", "invalid", "total", "count", "user", "name", "items", "results", "starting", "finished",
        "failed", "success", "connection", "server", "request", "response", "timeout", "retry", "skipping", "updated",
        "created", "deleted", "record", "records", "model", "training", "epoch", "batch", "loss", "accuracy", "score",
        "input", "output", "path", "directory", "config", "settings", "option", "unknown", "expected", "received",
        "please", "enter", "your", "number", "welcome", "to", "game", "over", "player", "wins", "hello", "world",
        "from", "with", "for", "of", "in", "is", "not", "empty", "ready", "waiting", "queue", "job", "task", "report",
        "summary", "average", "maximum", "minimum", "step", "page", "table", "row", "column", "key", "cannot", "open",
        "read", "write", "check", "list", "size", "length", "time", "elapsed", "seconds", "remaining", "first", "last",
    ];

    /// <summary>Beginnings of log and error messages; {0} is a noun. All end in a letter.</summary>
    public static readonly string[] MessageTemplates =
    [
        "Loading {0}", "Loaded", "Saving {0} to", "Saved", "Processing", "Processing {0}", "Found", "Could not find",
        "Total", "Number of {0}", "Invalid {0}", "Unknown {0}", "Finished", "Epoch", "Step", "Loss", "Accuracy",
        "Error reading", "Skipping", "Connecting to", "Waiting for", "Downloading", "Writing {0} to", "Reading {0} from",
        "Starting", "Done in", "Elapsed", "Missing {0}", "Expected", "Got", "Received", "Sending", "Updating {0} for",
        "Creating", "Deleting", "Removed", "Hello", "Welcome", "Result", "Value of {0} is", "Cannot open", "Retrying",
        "Parsed", "Average {0}", "Best {0}", "Current {0}", "New {0}", "Checking", "Using", "Ignoring", "Warning",
    ];

    public static readonly string[] Imports =
    [
        "import os", "import sys", "import re", "import json", "import math", "import time", "import random",
        "import logging", "import argparse", "import csv", "import itertools", "import functools", "import collections",
        "import subprocess", "import shutil", "import datetime", "import hashlib", "import pickle", "import string",
        "import threading", "import numpy as np", "import pandas as pd", "import requests", "import torch",
        "from pathlib import Path", "from collections import defaultdict", "from collections import Counter",
        "from typing import List, Dict, Optional", "from typing import Any", "from dataclasses import dataclass",
        "from datetime import datetime", "from functools import lru_cache", "from itertools import chain",
        "from os import path", "import torch.nn as nn", "from abc import ABC, abstractmethod", "import unittest",
        "from enum import Enum", "import sqlite3", "import socket", "import copy", "import heapq", "import statistics",
    ];

    public static readonly string[] FileStems =
    [
        "data", "config", "notes", "users", "train", "test", "sample", "records", "words", "scores", "items", "log",
        "events", "cache", "settings", "params", "dataset", "index", "names", "values", "table", "stats", "list",
        "messages", "tasks", "inventory", "orders", "customers", "readme", "todo", "map", "model", "weights", "vocab",
    ];

    public static readonly string[] Extensions = ["txt", "csv", "json", "log", "yaml", "md", "dat", "xml", "tsv", "cfg", "ini", "html"];

    public static readonly string[] Directories = ["data", "logs", "out", "tmp", "configs", "assets", "results", "files", "docs", "cache", "input", "reports"];

    public static readonly string[] Methods = ["strip", "lower", "upper", "split", "copy", "keys", "values", "items", "title", "pop", "sort", "reverse", "clear"];

    public static readonly string[] Comments =
    [
        "TODO: handle the empty case", "check the input first", "this is a hack", "see the docs for details",
        "keep this in sync with the server", "default values", "helper functions", "main loop", "clean up",
        "make sure the directory exists", "convert to a list", "skip blank lines", "count how many times each word appears",
        "build the lookup table", "read the settings", "parse the arguments", "fall back to the default", "update the totals",
        "no need to sort here", "store the result", "try again later", "for debugging", "print a summary", "edge case",
        "slow but simple", "cache the result", "normalize the values", "load everything into memory", "compute the average",
    ];
}
