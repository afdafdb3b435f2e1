"""One check for every text input, run before anything executes.

Every ``String`` and ``ID`` value an operation passes — as a literal or a variable, at any
depth of input objects and lists — is refused with ``BAD_USER_INPUT`` naming its path
(``input.lines.0.description``) when it

- is longer than its field's limit: declared once on the input field or argument with
  :func:`text` / :func:`text_argument` (shown in the SDL as ``@text(maxLength: …)``),
  :data:`DEFAULT_MAX_LENGTH` characters otherwise (search strings included);
- holds a control character (Unicode category Cc: NUL, BEL, ESC, DEL, …), except line
  feed, carriage return and tab in fields declared ``multiline`` (notes, descriptions,
  addresses);
- holds a lone surrogate (category Cs), which no database can store.

Lists in inputs hold at most :data:`MAX_LIST_ITEMS` items. A value that does not fit its
type at all (a literal or a variable) is ``BAD_USER_INPUT`` naming its path too, instead
of graphql-core's uncoded text. Nothing runs when any input is refused.

Code that takes text from elsewhere (web forms) applies the same rule with
:func:`check_text`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import SKIP, VisitorAction
from graphql.pyutils import Undefined
from graphql.utilities.validate_input_value import validate_input_literal, validate_input_value
from graphql.validation import ValuesOfCorrectTypeRule
from strawberry.extensions import SchemaExtension
from strawberry.schema_directive import Location

from gateway.errors import BadUserInput, ErrorCode
from gateway.graphql.document_memo import DocumentMemo

#: The limit of text inputs that declare none: a name, a code, a search string.
DEFAULT_MAX_LENGTH = 1_000
#: A sensible declared limit for free text with several lines (notes, descriptions).
LONG_TEXT = 10_000
#: Items in one list of an input (ids, tags, lines…): more would only reach SQL as a huge IN.
MAX_LIST_ITEMS = 1_000
#: Refused inputs reported per operation (each is one error).
MAX_ERRORS = 20

_TEXT_TYPES = ("String", "ID")
_BAD_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@strawberry.schema_directive(
    locations=[Location.INPUT_FIELD_DEFINITION, Location.ARGUMENT_DEFINITION],
    name="text",
    description="A text input's limits: at most `maxLength` characters, no control "
    "characters (line breaks and tabs only when `multiline`). Text inputs without it take "
    f"at most {DEFAULT_MAX_LENGTH:,} characters on one line.",
)
class Text:
    max_length: int
    #: ``True`` or left out (UNSET, so the SDL shows only ``@text(maxLength: 100)``).
    multiline: bool | None = strawberry.UNSET

    @classmethod
    def of(cls, max_length: int, multiline: bool) -> Text:
        return cls(max_length=max_length, multiline=True if multiline else strawberry.UNSET)


DEFAULT_TEXT = Text.of(DEFAULT_MAX_LENGTH, multiline=False)


def text(
    max_length: int = DEFAULT_MAX_LENGTH,
    *,
    multiline: bool = False,
    default: Any = dataclasses.MISSING,
    description: str | None = None,
) -> Any:
    """An input field with declared text limits (``strawberry.field`` otherwise)."""
    return strawberry.field(
        default=default,
        description=description,
        directives=[Text.of(max_length, multiline)],
    )


def text_argument(
    max_length: int = DEFAULT_MAX_LENGTH, *, multiline: bool = False, description: str | None = None
) -> Any:
    """An argument with declared text limits: ``Annotated[str, text_argument(…)]``."""
    return strawberry.argument(description=description, directives=[Text.of(max_length, multiline)])


def text_problem(value: str, limits: Text = DEFAULT_TEXT) -> str | None:
    """Why ``value`` is refused under ``limits``, or ``None`` when it is fine."""
    if len(value) > limits.max_length:
        return f"at most {limits.max_length:,} characters"
    bad = (_BAD_MULTILINE if limits.multiline is True else _BAD_SINGLE_LINE).search(value)
    if bad is None:
        return None
    char = bad.group()
    if "\ud800" <= char <= "\udfff":
        return f"contains an invalid character (a lone surrogate, U+{ord(char):04X})"
    if char in "\n\r\t":
        return "must be on one line (no line breaks or tabs)"
    return f"contains a control character (U+{ord(char):04X})"


def check_text(
    value: str, field: str, *, max_length: int = DEFAULT_MAX_LENGTH, multiline: bool = False
) -> str:
    """``value`` unchanged, or BAD_USER_INPUT naming ``field`` (for text that does not come
    through GraphQL, such as web form posts)."""
    problem = text_problem(value, Text.of(max_length, multiline))
    if problem is not None:
        raise BadUserInput(problem, field=field)
    return value


def limits_of(definition: GraphQLArgument | GraphQLInputField) -> Text:
    """The ``@text`` limits declared on an argument or input field, or the default."""
    strawberry_definition = (definition.extensions or {}).get("strawberry-definition")
    for directive in getattr(strawberry_definition, "directives", None) or ():
        if isinstance(directive, Text):
            return directive
    return DEFAULT_TEXT


def _refusal(message: str, field: str, node: Node | None) -> GraphQLError:
    return GraphQLError(
        f"{field}: {message}",
        node,
        extensions={"code": ErrorCode.BAD_USER_INPUT.value, "field": field},
    )


def _join(head: str, path: list[str | int] | tuple[str | int, ...]) -> str:
    return ".".join([head, *map(str, path)])


# -- literals ---------------------------------------------------------------------------------


class CodedValuesOfCorrectType(ValuesOfCorrectTypeRule):
    """graphql-core's rule for literals, with ``BAD_USER_INPUT`` and the path in ``field``
    (``input.latitude``) like a bad variable gets, instead of uncoded text."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.where = "value"

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.where = node.name.value

    def enter_variable_definition(self, node: VariableDefinitionNode, *_args: Any) -> None:
        self.where = f"${node.variable.name.value}"

    def is_valid_value_node(
        self, node: ValueNode, input_type: GraphQLInputType | None
    ) -> VisitorAction:
        # the first value under an argument is its whole value: the rule skips what is inside
        if input_type:

            def on_error(error: GraphQLError, path: list[str | int]) -> None:
                self.report_error(_refusal(error.message, _join(self.where, path), node))

            validate_input_literal(
                node, input_type, on_error, None, None, self.context.hide_suggestions
            )
        return SKIP


# -- the operation's arguments ----------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What the check reads in one operation of a document (memoised per document)."""

    operation: OperationDefinitionNode
    fields: tuple[tuple[FieldNode, GraphQLField], ...]  # fields taking arguments
    usages: Mapping[str, str]  # variable → the argument path it is first used at


_PLANS: DocumentMemo[_Plan | None] = DocumentMemo(maxsize=256)


def _plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> _Plan | None:
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation is not None else None
    if operation is None or root is None:
        return None  # execution reports it
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fields: list[tuple[FieldNode, GraphQLField]] = []
    usages: dict[str, str] = {}
    walked: set[str] = set()

    def walk(selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> None:
        if selection_set is None or parent is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    continue
                field = parent.fields.get(selection.name.value)
                if field is None:
                    continue  # __typename and introspection
                if field.args:
                    fields.append((selection, field))
                    for argument in selection.arguments or ():
                        _variables_in(argument.value, argument.name.value, usages)
                walk(selection.selection_set, get_named_type(field.type))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                walk(
                    selection.selection_set,
                    schema.get_type(condition.name.value) if condition else parent,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in walked:
                    walked.add(name)
                    walk(
                        fragment.selection_set, schema.get_type(fragment.type_condition.name.value)
                    )

    walk(operation.selection_set, root)
    return _Plan(operation, tuple(fields), usages)


def _variables_in(value: ValueNode, path: str, usages: dict[str, str]) -> None:
    if isinstance(value, VariableNode):
        usages.setdefault(value.name.value, path)
    elif isinstance(value, ObjectValueNode):
        for field in value.fields:
            _variables_in(field.value, f"{path}.{field.name.value}", usages)
    elif isinstance(value, ListValueNode):
        for index, item in enumerate(value.values):
            _variables_in(item, f"{path}.{index}", usages)


def check_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> list[GraphQLError]:
    """Every refused input of the operation (at most :data:`MAX_ERRORS`), coded errors."""
    plan = _PLANS.get(
        document, (schema, operation_name), lambda: _plan(schema, document, operation_name)
    )
    if plan is None or not isinstance(variables, Mapping | None):
        return []
    inputs = dict(variables or {})
    coerced = get_variable_values(
        schema, plan.operation.variable_definitions or (), inputs, hide_suggestions=True
    )
    if isinstance(coerced, list):
        return _variable_errors(schema, plan, inputs, coerced)[:MAX_ERRORS]
    errors: list[GraphQLError] = []
    for node, field in plan.fields:
        try:
            arguments = get_argument_values(field, node, coerced, hide_suggestions=True)
        except GraphQLError:
            continue  # execution reports it
        for name, argument in field.args.items():
            value = arguments.get(argument.out_name or name, Undefined)
            _check(value, argument.type, limits_of(argument), name, node, errors)
            if len(errors) >= MAX_ERRORS:
                return errors
    return errors


def _check(
    value: Any,
    type_: GraphQLInputType,
    limits: Text,
    path: str,
    node: FieldNode,
    errors: list[GraphQLError],
) -> None:
    """Walk a coerced value along its type, collecting refusals."""
    if value is None or value is Undefined or len(errors) >= MAX_ERRORS:
        return
    if is_non_null_type(type_):
        type_ = type_.of_type
    if is_list_type(type_):
        items = value if isinstance(value, list) else [value]
        if len(items) > MAX_LIST_ITEMS:
            errors.append(_refusal(f"at most {MAX_LIST_ITEMS:,} items", path, node))
            return
        for index, item in enumerate(items):
            _check(item, type_.of_type, limits, f"{path}.{index}", node, errors)
    elif is_input_object_type(type_) and isinstance(value, Mapping):
        for name, field in type_.fields.items():
            key = field.out_name or name
            if key in value:
                _check(value[key], field.type, limits_of(field), f"{path}.{name}", node, errors)
    elif isinstance(type_, GraphQLScalarType) and type_.name in _TEXT_TYPES:
        problem = text_problem(value, limits) if isinstance(value, str) else None
        if problem is not None:
            errors.append(_refusal(problem, path, node))


def _variable_errors(
    schema: GraphQLSchema,
    plan: _Plan,
    inputs: dict[str, Any],
    reported: list[GraphQLError],
) -> list[GraphQLError]:
    """graphql-core's variable errors again, each coded and naming the argument path the
    variable feeds (``input.createdAfter``), not only the variable."""
    errors: list[GraphQLError] = []
    for definition in plan.operation.variable_definitions or ():
        name = definition.variable.name.value
        where = plan.usages.get(name, f"${name}")
        signature = get_variable_signature(schema, definition)
        value = inputs.get(name, Undefined)
        if isinstance(signature, GraphQLError) or value is Undefined:
            continue

        def on_error(
            error: GraphQLError, path: list[str | int], where: str = where, at: Node = definition
        ) -> None:
            errors.append(_refusal(error.message, _join(where, path), at))

        validate_input_value(value, signature.type, on_error, True)
    if errors:
        return errors
    for error in reported:  # a missing required variable, …
        error.extensions = {**(error.extensions or {}), "code": ErrorCode.BAD_USER_INPUT.value}
    return reported


class InputCheck(SchemaExtension):
    """Refuse, before execution, operations whose inputs break the rules above; and code
    literal values of the wrong type (:class:`CodedValuesOfCorrectType`)."""

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        ec.validation_rules = tuple(
            CodedValuesOfCorrectType if rule is ValuesOfCorrectTypeRule else rule
            for rule in ec.validation_rules
        )
        yield

    def on_execute(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is not None:
            errors = check_operation(
                ec.schema._schema, ec.graphql_document, ec.operation_name, ec.variables
            )
            if errors:
                ec.result = ExecutionResult(data=None, errors=errors)
        yield
