//! OpenAPI schemas of wire types whose serde form the derive cannot
//! describe: Arrow schemas (arrow-rs's serde form), row filters (an untagged
//! literal, where an integer is also a number) and the externally tagged pin
//! target as named variants. These types only describe JSON; the server and
//! the client never build them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
    Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::data::{FilterOp, Scalar};
use crate::model::{BatchId, PartitionValues, PinTarget};

/// An Arrow schema in arrow-rs's serde form, as `meta table show --output
/// json` prints it and `CreateTable.schema` accepts it.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) struct ArrowSchema {
    /// The columns, in order.
    fields: Vec<ArrowField>,
    /// Schema metadata (pandas keeps its index and dtypes here).
    metadata: BTreeMap<String, String>,
}

/// One column of an [`ArrowSchema`].
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) struct ArrowField {
    /// Column name.
    name: String,
    /// The Arrow type.
    data_type: ArrowDataType,
    /// Whether the column may hold nulls.
    nullable: bool,
    /// Dictionary id (arrow-rs writes 0).
    dict_id: i64,
    /// Whether a dictionary column's values are ordered.
    dict_is_ordered: bool,
    /// Field metadata.
    metadata: BTreeMap<String, String>,
}

/// An Arrow type in arrow-rs's serde form: a name for a type without
/// parameters (`"Int64"`, `"Utf8"`, `"Date32"`), else an object with one key,
/// the type, holding its parameters (`{"Timestamp": ["Microsecond", "UTC"]}`,
/// `{"Decimal128": [10, 2]}`, `{"List": {...field...}}`).
pub(crate) struct ArrowDataType;

impl PartialSchema for ArrowDataType {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .title(Some("ArrowTypeName"))
                    .examples(["Int64"]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .title(Some("ArrowTypeWithParameters"))
                    .min_properties(Some(1))
                    .max_properties(Some(1)),
            )
            .description(Some(
                "An Arrow type: a name (`\"Int64\"`) or an object with one key, the type, holding its parameters (`{\"Timestamp\": [\"Microsecond\", \"UTC\"]}`).",
            ))
            .into()
    }
}

impl ToSchema for ArrowDataType {}

impl PartialSchema for FilterOp {
    fn schema() -> RefOr<Schema> {
        use FilterOp::*;
        let ops = [Eq, NotEq, Lt, LtEq, Gt, GtEq, In, NotIn, IsNull, IsNotNull];
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ops.map(FilterOp::as_str)))
            .description(Some(
                "The operator. The server also accepts `==` and `<>`, in any case and spacing.",
            ))
            .into()
    }
}

impl ToSchema for FilterOp {}

fn typed(t: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(t)
}

/// The literals a list of `in` / `not in` may hold.
fn scalar_item() -> AnyOfBuilder {
    AnyOfBuilder::new()
        .item(typed(Type::Boolean))
        .item(typed(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))))
        .item(typed(Type::Number))
        .item(typed(Type::String))
}

impl PartialSchema for Scalar {
    fn schema() -> RefOr<Schema> {
        // anyOf, not oneOf: `5` is both an integer and a number.
        AnyOfBuilder::new()
            .item(typed(Type::Null))
            .item(typed(Type::Boolean))
            .item(typed(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))))
            .item(typed(Type::Number))
            .item(typed(Type::String))
            .item(ArrayBuilder::new().items(scalar_item()))
            .description(Some(
                "The literal, cast to the column's type: dates as `\"YYYY-MM-DD\"`, timestamps as ISO strings, a list for `in` / `not in`, absent or null for `is null` / `is not null`.",
            ))
            .into()
    }
}

impl ToSchema for Scalar {}

/// `{"batch": {...}}`: a pin on one batch of one partition.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) struct PinTargetBatch {
    /// The pinned batch.
    batch: PinnedBatch,
}

/// The batch a pin holds.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) struct PinnedBatch {
    /// The partition.
    partition: PartitionValues,
    /// The batch.
    batch: BatchId,
}

/// `{"as_of": {"at": ...}}`: a pin on the whole table as it was at a time.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) struct PinTargetAsOf {
    /// The pinned time.
    as_of: PinnedTime,
}

/// The time a whole-table pin holds.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) struct PinnedTime {
    /// The server time.
    at: DateTime<Utc>,
}

// `PinTarget` is externally tagged (`{"batch": {...}}` or `{"as_of":
// {...}}`), which an OpenAPI `discriminator` cannot express (it names a
// property whose *value* picks the schema). Each variant is a named schema
// that requires its own key, so exactly one matches and generators make one
// class per variant instead of colliding inline models.
impl PartialSchema for PinTarget {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(PinTargetBatch::name()))
            .item(Ref::from_schema_name(PinTargetAsOf::name()))
            .description(Some(
                "What a pin holds: an object with one key, `batch` (one batch of one partition) or `as_of` (the whole table at a time).",
            ))
            .into()
    }
}

impl ToSchema for PinTarget {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((PinTargetBatch::name().into(), PinTargetBatch::schema()));
        PinTargetBatch::schemas(schemas);
        schemas.push((PinTargetAsOf::name().into(), PinTargetAsOf::schema()));
        PinTargetAsOf::schemas(schemas);
    }
}

/// What to do after an error, as a structure: `kind` says which step, the
/// other fields name what it is about. The error's `message` already words
/// it for HTTP; a client words it again for its own users.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) struct ErrorHint {
    /// Which step.
    kind: HintKind,
    /// The namespace it is about.
    namespace: Option<String>,
    /// The table it is about (in `namespace`).
    table: Option<String>,
    /// The partition it is about (`key=value/...`).
    partition: Option<String>,
    /// For `create_namespace`: an existing namespace with a close name.
    did_you_mean: Option<String>,
    /// For `expect_current`: the partition's current batch.
    current_batch: Option<String>,
    /// For `text`: the hint itself.
    text: Option<String>,
    /// For `unavailable`: the dependency that is down (`catalog database`, `object store`).
    dependency: Option<String>,
}

/// The steps an [`ErrorHint`] can name.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[expect(dead_code, reason = "describes JSON only; never built")]
pub(crate) enum HintKind {
    /// See which namespaces exist, or create one.
    ListNamespaces,
    /// Create the namespace on purpose (or use the close name).
    CreateNamespace,
    /// See the namespace's tables.
    ListTables,
    /// See the table's published partitions.
    ListPartitions,
    /// See the partition's batches.
    History,
    /// Roll back to a batch picked from the partition's history.
    RollbackTo,
    /// See the table's pins.
    ListPins,
    /// See the live tokens.
    ListTokens,
    /// Look at the current batch, then retry expecting it.
    ExpectCurrent,
    /// Compare with the table's schema, or merge new columns.
    SchemaMerge,
    /// A hint worded alike for everyone.
    Text,
    /// Pick another name.
    NameTaken,
    /// How names are written.
    NameRules,
    /// How a partition is written.
    PartitionSyntax,
    /// A bug or a problem with the environment.
    Internal,
    /// A dependency is down or refuses writes; retry after `Retry-After`.
    Unavailable,
    /// A disk or quota is full; free space, then retry.
    FreeSpace,
    /// Name what a pin holds: a partition's batch or a time.
    PinTarget,
    /// Name the partition keys so that a first write creates the table, or create it.
    FirstWrite,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hint_kind_is_in_the_document() {
        let doc = serde_json::to_value(HintKind::schema()).unwrap();
        let kinds: Vec<&str> = doc["enum"]
            .as_array()
            .expect("HintKind is a string enum")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        for h in crate::model::hint::samples() {
            let json = serde_json::to_value(&h).unwrap();
            let kind = json["kind"].as_str().unwrap();
            assert!(kinds.contains(&kind), "{kind} is missing from HintKind");
        }
        assert_eq!(kinds.len(), crate::model::hint::samples().len());
    }
}
