"""Calculated query cost, approximating Shopify's rules.

shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits: scalars and enums cost 0, objects 1,
interfaces and unions the maximum of their possible selections, connections two plus the number
of objects requested through ``first``/``last`` (each costing what its selection costs), and a
mutation 10. ``requested`` is computed from the query before it runs; ``actual`` from what came
back (a connection costs two plus the objects actually returned).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
)
from graphql.type.definition import GraphQLNamedType

__all__ = ["MUTATION_COST", "QueryCost"]

MUTATION_COST = 10


class QueryCost:
    """Cost of one operation of a parsed document."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any] | None,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = variables or {}

    # -- requested ------------------------------------------------------------------------------

    def requested(self) -> int:
        if self.operation.operation == OperationType.MUTATION:
            return MUTATION_COST * len(self._root_fields(self.operation.selection_set))
        root = self.schema.query_type
        assert root is not None
        return self._selection_cost(self.operation.selection_set, root)

    def _root_fields(self, selection_set: SelectionSetNode) -> list[FieldNode]:
        fields: list[FieldNode] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value != "__typename":
                    fields.append(selection)
            else:
                inner = self._fragment_selection(selection)
                if inner is not None:
                    fields.extend(self._root_fields(inner[0]))
        return fields

    def _fragment_selection(self, node: Any) -> tuple[SelectionSetNode, str | None] | None:
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else None
            return node.selection_set, condition
        if isinstance(node, FragmentSpreadNode):
            fragment = self.fragments.get(node.name.value)
            if fragment is None:
                return None
            return fragment.selection_set, fragment.type_condition.name.value
        return None

    def _selection_cost(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None:
            return 0
        common = 0
        per_type: dict[str, int] = {}
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                common += self._field_cost(selection, parent)
                continue
            inner = self._fragment_selection(selection)
            if inner is None:
                continue
            inner_set, condition = inner
            target = self.schema.get_type(condition) if condition else parent
            if target is None:
                continue
            cost = self._selection_cost(inner_set, target)
            if is_abstract_type(parent) and condition and condition != parent.name:
                per_type[condition] = per_type.get(condition, 0) + cost
            else:
                common += cost
        return common + max(per_type.values(), default=0)

    def _page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                if isinstance(argument.value, VariableNode):
                    raw = self.variables.get(argument.value.name.value)
                else:
                    raw = value_from_ast_untyped(argument.value, self.variables)
                if isinstance(raw, int) and raw > 0:
                    return raw
        return 0

    def _field_target(self, node: FieldNode, parent: Any) -> GraphQLNamedType | None:
        name = node.name.value
        if name.startswith("__") or not hasattr(parent, "fields"):
            return None
        definition = parent.fields.get(name)
        if definition is None:
            return None
        named: GraphQLNamedType = get_named_type(definition.type)
        return named

    def _connection_node(self, node: FieldNode, connection: Any) -> tuple[int, Any]:
        """The per-object cost inside a connection selection, and the node type."""
        best = 0
        node_type = None
        for selection in node.selection_set.selections if node.selection_set else ():
            if not isinstance(selection, FieldNode):
                continue
            if selection.name.value == "nodes":
                node_type = get_named_type(connection.fields["nodes"].type)
                best = max(best, 1 + self._selection_cost(selection.selection_set, node_type))
            elif selection.name.value == "edges":
                edge_type = get_named_type(connection.fields["edges"].type)
                assert isinstance(edge_type, GraphQLObjectType)
                for inner in selection.selection_set.selections if selection.selection_set else ():
                    if isinstance(inner, FieldNode) and inner.name.value == "node":
                        node_type = get_named_type(edge_type.fields["node"].type)
                        best = max(best, 1 + self._selection_cost(inner.selection_set, node_type))
        return best, node_type

    def _field_cost(self, node: FieldNode, parent: Any) -> int:
        target = self._field_target(node, parent)
        if target is None or is_leaf_type(target):
            return 0
        if node.name.value == "pageInfo":
            return 0
        if target.name.endswith("Connection"):
            per_object, _ = self._connection_node(node, target)
            return 2 + self._page_size(node) * per_object
        return 1 + self._selection_cost(node.selection_set, target)

    # -- actual ---------------------------------------------------------------------------------

    def actual(self, data: dict[str, Any] | None) -> int:
        if self.operation.operation == OperationType.MUTATION:
            return MUTATION_COST * len(self._root_fields(self.operation.selection_set))
        root = self.schema.query_type
        assert root is not None
        if data is None:
            return 0
        return self._actual_selection(self.operation.selection_set, root, data)

    def _actual_selection(
        self, selection_set: SelectionSetNode | None, parent: Any, data: Any
    ) -> int:
        if selection_set is None or not isinstance(data, dict):
            return 0
        if is_abstract_type(parent):
            return self._selection_cost(selection_set, parent)
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                total += self._actual_field(selection, parent, data.get(key))
                continue
            inner = self._fragment_selection(selection)
            if inner is None:
                continue
            inner_set, condition = inner
            if condition and condition != parent.name:
                target = self.schema.get_type(condition)
                if target is None or not is_abstract_type(target):
                    continue
            total += self._actual_selection(inner_set, parent, data)
        return total

    def _actual_field(self, node: FieldNode, parent: Any, value: Any) -> int:
        target = self._field_target(node, parent)
        if target is None or is_leaf_type(target) or value is None:
            return 0
        if node.name.value == "pageInfo":
            return 0
        if target.name.endswith("Connection") and isinstance(value, dict):
            per_object, _ = self._connection_node(node, target)
            count = 0
            for selection in node.selection_set.selections if node.selection_set else ():
                if isinstance(selection, FieldNode) and selection.name.value in ("nodes", "edges"):
                    key = selection.alias.value if selection.alias else selection.name.value
                    count = max(count, len(value.get(key) or []))
            return 2 + count * per_object
        if isinstance(value, list):
            return sum(1 + self._actual_selection(node.selection_set, target, v) for v in value)
        return 1 + self._actual_selection(node.selection_set, target, value)
