"""The GraphQL endpoint: parse, validate, cost, throttle, execute, and answer in Shopify's shapes.

Shopify runs graphql-ruby, whose error messages differ from graphql-core's; the validation
errors adapters meet most are translated to graphql-ruby's wording and ``extensions`` (for
example ``Field 'foo' doesn't exist on type 'QueryRoot'`` with ``code: undefinedField``), with a
``path`` that starts at the operation (``"query"``, ``"query Name"``, ``"mutation"``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    execute_sync,
    parse,
    validate,
)
from graphql.language import Visitor, visit

from .bucket import LeakyBucket
from .cost import QueryCost
from .root import Root
from .schema import schema_for_version
from .views import Context

__all__ = ["GraphQLOutcome", "run_graphql"]

THROTTLE_DOCS = "https://shopify.dev/api/usage/rate-limits"
MAX_SINGLE_QUERY_COST = 1000


@dataclass
class GraphQLOutcome:
    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]] = field(default_factory=list)


# -- error translation -------------------------------------------------------------------------


def _operation_label(operation: OperationDefinitionNode | None) -> str:
    if operation is None:
        return "query"
    kind = operation.operation.value
    return f"{kind} {operation.name.value}" if operation.name else kind


def _ancestor_path(document: DocumentNode, target: Node) -> list[str]:
    """graphql-ruby's ``path`` for a validation error: operation, then fields (aliases win)."""
    found: list[str] = []

    class Finder(Visitor):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []

        def enter(self, node: Any, *args: Any) -> Any:
            label: str | None = None
            if isinstance(node, OperationDefinitionNode):
                label = _operation_label(node)
            elif isinstance(node, FragmentDefinitionNode):
                label = f"fragment {node.name.value}"
            elif isinstance(node, FieldNode):
                label = node.alias.value if node.alias else node.name.value
            elif isinstance(node, InlineFragmentNode):
                label = f"... on {node.type_condition.name.value}" if node.type_condition else "..."
            elif isinstance(node, FragmentSpreadNode):
                label = f"... {node.name.value}"
            if label is not None:
                self.stack.append(label)
            if node is target:
                found.extend(self.stack)
                return Visitor.BREAK
            return None

        def leave(self, node: Any, *args: Any) -> Any:
            if isinstance(
                node,
                OperationDefinitionNode
                | FragmentDefinitionNode
                | FieldNode
                | InlineFragmentNode
                | FragmentSpreadNode,
            ):
                self.stack.pop()
            return None

    visit(document, Finder())
    return found


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, dict[str, Any]]]]] = [
    (
        re.compile(r"^Cannot query field '(?P<f>\w+)' on type '(?P<t>\w+)'\."),
        lambda m: (
            f"Field '{m['f']}' doesn't exist on type '{m['t']}'",
            {"code": "undefinedField", "typeName": m["t"], "fieldName": m["f"]},
        ),
    ),
    (
        re.compile(r"^Unknown argument '(?P<a>\w+)' on field '(?P<t>\w+)\.(?P<f>\w+)'\."),
        lambda m: (
            f"Field '{m['f']}' doesn't accept argument '{m['a']}'",
            {
                "code": "argumentNotAccepted",
                "name": m["f"],
                "typeName": "Field",
                "argumentName": m["a"],
            },
        ),
    ),
    (
        re.compile(
            r"^Argument '(?P<t>\w+)\.(?P<f>\w+)\((?P<a>\w+):\)' of type '(?P<ty>[^']+)' is "
            r"required, but it was not provided\."
        ),
        lambda m: (
            f"Field '{m['f']}' is missing required arguments: {m['a']}",
            {
                "code": "missingRequiredArguments",
                "className": "Field",
                "name": m["f"],
                "arguments": m["a"],
            },
        ),
    ),
    (
        re.compile(
            r"^Field '(?P<f>\w+)' of type '(?P<t>[^']+)' must have a selection of subfields\."
        ),
        lambda m: (
            f"Field must have selections (field '{m['f']}' returns {m['t']} but has no "
            f"selections. Did you mean '{m['f']} {{ ... }}'?)",
            {
                "code": "selectionMismatch",
                "nodeName": f"field '{m['f']}'",
                "typeName": m["t"].strip("[]!"),
            },
        ),
    ),
    (
        re.compile(
            r"^Field '(?P<f>\w+)' must not have a selection since type '(?P<t>[^']+)' has no "
            r"subfields\."
        ),
        lambda m: (
            f"Selections can't be made on scalars (field '{m['f']}' returns {m['t']} but has "
            "selections)",
            {
                "code": "selectionMismatch",
                "nodeName": f"field '{m['f']}'",
                "typeName": m["t"].strip("[]!"),
            },
        ),
    ),
    (
        re.compile(r"^Unknown type '(?P<t>\w+)'\."),
        lambda m: (
            f"No such type {m['t']}, so it can't be a fragment condition",
            {"code": "undefinedType", "typeName": m["t"]},
        ),
    ),
    (
        re.compile(r"^Variable '\$(?P<v>\w+)' is not defined(?: by operation '(?P<o>\w+)')?\."),
        lambda m: (
            f"Variable ${m['v']} is used by {m['o'] or 'anonymous query'} but not declared",
            {"code": "variableNotDefined", "variableName": m["v"]},
        ),
    ),
    (
        re.compile(r"^Variable '\$(?P<v>\w+)' is never used(?: in operation '(?P<o>\w+)')?\."),
        lambda m: (
            f"Variable ${m['v']} is declared by {m['o'] or 'anonymous query'} but not used",
            {"code": "variableNotUsed", "variableName": m["v"]},
        ),
    ),
]


def _translate_validation(document: DocumentNode, error: GraphQLError) -> dict[str, Any]:
    message = error.message
    extensions: dict[str, Any] = {}
    for pattern, build in _RULES:
        match = pattern.match(message)
        if match:
            message, extensions = build(match)
            break
    else:
        literal = re.match(r"^(?P<ty>\w+) cannot represent", message)
        if literal and error.nodes:
            extensions = {"code": "argumentLiteralsIncompatible", "typeName": "Argument"}
    out: dict[str, Any] = {"message": message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.nodes:
        path = _ancestor_path(document, error.nodes[0])
        if path:
            out["path"] = path
    if extensions:
        out["extensions"] = extensions
    return out


_TOKENS = {
    "}": "RCURLY",
    "{": "LCURLY",
    ")": "RPAREN",
    "(": "LPAREN",
    "]": "RBRACKET",
    "[": "LBRACKET",
    ":": "COLON",
    "$": "VAR_SIGN",
    "=": "EQUALS",
    "!": "BANG",
    "@": "DIR_SIGN",
    "|": "PIPE",
    "&": "AMP",
    "...": "ELLIPSIS",
}


def _translate_syntax(error: GraphQLError) -> dict[str, Any]:
    """graphql-ruby: ``Parse error on "}" (RCURLY) at [1, 16]`` / ``Unexpected end of document``."""
    location = error.locations[0] if error.locations else None
    where = f" at [{location.line}, {location.column}]" if location else ""
    found = re.search(r"(?:found|Unexpected) (?P<t><EOF>|'[^']*'|\S+)", error.message)
    token = found["t"].strip("'.") if found else ""
    if token in ("<EOF>", "") or "<EOF>" in error.message:
        message = "Unexpected end of document"
    else:
        name = _TOKENS.get(token)
        if name is None:
            name = "STRING" if token.startswith('"') else "IDENTIFIER"
            token = token.strip('"')
        message = f'Parse error on "{token}" ({name}){where}'
    out: dict[str, Any] = {"message": message}
    if location:
        out["locations"] = [{"line": location.line, "column": location.column}]
    return out


def _format_execution_error(error: GraphQLError, variables_types: dict[str, str]) -> dict[str, Any]:
    message = error.message
    extensions = dict(error.extensions or {})
    variable = re.match(r"^Variable '\$(?P<v>\w+)' (?:got|has) invalid value(?P<rest>.*)$", message)
    if variable:
        name = variable["v"]
        message = (
            f"Variable ${name} of type {variables_types.get(name, 'unknown')} was provided "
            "invalid value"
        )
        detail = variable["rest"].lstrip(": ;").strip()
        extensions = {"value": None, "problems": [{"path": [], "explanation": detail}]}
    out: dict[str, Any] = {"message": message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    if extensions:
        out["extensions"] = extensions
    return out


# -- the endpoint --------------------------------------------------------------------------


def _cost_extension(requested: int, actual: int | None, bucket: LeakyBucket) -> dict[str, Any]:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": bucket.status(),
    }


class _Answer(Exception):
    """Raised by a step of :func:`run_graphql` that answers the request early."""

    def __init__(self, outcome: GraphQLOutcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


def _errors_answer(*errors: dict[str, Any]) -> _Answer:
    return _Answer(GraphQLOutcome(200, {"errors": list(errors)}))


def _read_request(body: bytes, content_type: str) -> tuple[str, dict[str, Any] | None, str | None]:
    """``(query, variables, operation name)`` of the request body."""
    variables: Any = None
    operation_name: str | None = None
    if content_type.startswith("application/graphql"):
        query: Any = body.decode("utf-8", errors="replace")
    else:
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
        except (ValueError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict):
            raise _Answer(GraphQLOutcome(400, {"errors": "Invalid JSON in request body"}))
        query = payload.get("query")
        variables = payload.get("variables")
        operation_name = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise _Answer(
            GraphQLOutcome(400, {"errors": {"query": "Required parameter missing or invalid"}})
        )
    if variables is not None and not isinstance(variables, dict):
        raise _errors_answer({"message": "Variables must be an object"})
    return query, variables, operation_name


def _valid_document(schema: GraphQLSchema, query: str) -> DocumentNode:
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise _errors_answer(_translate_syntax(exc)) from exc
    problems = validate(schema, document)
    if problems:
        raise _errors_answer(*(_translate_validation(document, p) for p in problems))
    return document


def _operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        chosen = [op for op in operations if op.name and op.name.value == operation_name]
        if not chosen:
            raise _errors_answer({"message": f'No operation named "{operation_name}"'})
        return chosen[0]
    if len(operations) == 1:
        return operations[0]
    raise _errors_answer(
        {"message": "An operation name is required when sending multiple operations."}
    )


def _charge(requested: int, bucket: LeakyBucket, throttle_status: int) -> None:
    """Take the requested cost from the bucket, or answer that it is too high or throttled."""
    if requested > MAX_SINGLE_QUERY_COST:
        raise _errors_answer(
            {
                "message": (
                    f"Query cost is {requested}, which exceeds the single query max cost "
                    f"limit ({MAX_SINGLE_QUERY_COST}).\n\nSee {THROTTLE_DOCS} for more "
                    "information on how the\ncost of a query is calculated.\n\nTo query "
                    "larger amounts of data with fewer limits, bulk operations should be "
                    "used instead."
                ),
                "extensions": {
                    "code": "MAX_COST_EXCEEDED",
                    "cost": requested,
                    "maxCost": MAX_SINGLE_QUERY_COST,
                },
            }
        )
    if bucket.try_take(requested):
        return
    outcome = GraphQLOutcome(
        throttle_status,
        {
            "errors": [
                {
                    "message": "Throttled",
                    "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS},
                }
            ],
            "extensions": {"cost": _cost_extension(requested, None, bucket)},
        },
    )
    if throttle_status == 429:
        outcome.headers.append(("Retry-After", bucket.retry_after(requested)))
    raise _Answer(outcome)


def run_graphql(
    *,
    body: bytes,
    content_type: str,
    context: Context,
    bucket: LeakyBucket,
    throttle_status: int,
) -> GraphQLOutcome:
    """Answer one POST to ``/admin/api/{version}/graphql.json`` (already authenticated)."""
    try:
        query, variables, operation_name = _read_request(body, content_type)
        schema = schema_for_version(context.version)
        document = _valid_document(schema, query)
        operation = _operation(document, operation_name)
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        cost = QueryCost(schema, operation, fragments, variables)
        requested = cost.requested()
        _charge(requested, bucket, throttle_status)
    except _Answer as answer:
        return answer.outcome

    variable_types = {
        v.variable.name.value: _type_text(v.type) for v in operation.variable_definitions or ()
    }
    with context.state.lock:
        result = execute_sync(
            schema,
            document,
            root_value=Root(),
            context_value=context,
            variable_values=variables,
            operation_name=operation.name.value if operation.name else None,
        )
    data = result.data
    errors = result.errors
    actual = min(requested, cost.actual(data)) if data is not None else 0
    bucket.give_back(requested - actual)
    response: dict[str, Any] = {}
    if errors:
        response["errors"] = [_format_execution_error(e, variable_types) for e in errors]
    if data is not None or not errors:
        response["data"] = data
    extensions: dict[str, Any] = {"cost": _cost_extension(requested, actual, bucket)}
    if context.search:
        extensions["search"] = list(context.search)
    response["extensions"] = extensions
    return GraphQLOutcome(200, response)


def _type_text(node: Any) -> str:
    from graphql import print_ast

    return str(print_ast(node))
