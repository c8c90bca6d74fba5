use super::*;

#[test]
fn a_database_reply_is_one_whole_message() {
    let m = Message {
        name: "get_database".into(),
        kind: codec::CALL,
        seq: 1,
        args: Fields::new(),
    };
    let body = success_struct(|w| {
        mapping::database(
            w,
            "default",
            Some("d"),
            "file:///w",
            Some(("ann", mapping::PrincipalType::User)),
            &[("k", "v")],
        );
    });
    let bytes = reply(&m, Ok(body));
    let mut r = codec::Reader::new(&bytes);
    let got = r.message().unwrap();
    // Nothing may be left over: the next reply would start mid-stream.
    assert_eq!(r.position(), bytes.len());
    let db = got.args.record(0).unwrap();
    assert_eq!(db.string(1).as_deref(), Some("default"));
    assert_eq!(db.string(3).as_deref(), Some("file:///w"));
    assert_eq!(db.string(6).as_deref(), Some("ann"));
}

#[test]
fn writes_are_recognised_from_the_idl() {
    for m in [
        "create_table",
        "create_table_with_environment_context",
        "add_partitions_req",
        "drop_partition_with_environment_context",
        "alter_table",
        "drop_database",
        "alter_partitions",
    ] {
        assert!(is_write(m), "{m}");
    }
    for m in [
        "get_table",
        "get_partitions",
        "set_ugi",
        "lock",
        "create_nonsense",
    ] {
        assert!(!is_write(m), "{m}");
    }
}

#[test]
fn virtual_names_are_the_models() {
    // Spark lowercases names: the `t` and `z` of a time come lowercase.
    let v = VirtualTable::parse("t@2016-11-01t00:00:00z").unwrap();
    let t = chrono::DateTime::parse_from_rfc3339("2016-11-01T00:00:00Z").unwrap();
    assert_eq!(v.version, Version::AsOf(t.with_timezone(&chrono::Utc)));
    assert!(VirtualTable::parse("t@no/slashes").is_err());
}

#[test]
fn hive_patterns() {
    assert!(pattern_matches("*", "sales"));
    assert!(pattern_matches("sa*", "sales"));
    assert!(pattern_matches("*les", "sales"));
    assert!(pattern_matches("s*l*s", "sales"));
    assert!(pattern_matches("x|sales", "sales"));
    assert!(pattern_matches("SALES", "sales"));
    assert!(!pattern_matches("sa", "sales"));
    assert!(!pattern_matches("*x*", "sales"));
}

#[test]
fn an_exception_goes_to_the_field_its_method_declares() {
    let m = Message {
        name: "get_table".into(),
        kind: codec::CALL,
        seq: 9,
        args: Fields::new(),
    };
    let bytes = reply(&m, Err(Fail::not_found("nope")));
    let got = codec::Reader::new(&bytes).message().unwrap();
    assert_eq!(got.kind, codec::REPLY);
    // get_table: 1 MetaException, 2 NoSuchObjectException.
    assert_eq!(
        got.args.record(2).and_then(|e| e.string(1)).as_deref(),
        Some("nope")
    );
    let m = Message {
        name: "get_partition_names".into(),
        ..m
    };
    let bytes = reply(&m, Err(Fail::not_found("nope")));
    let got = codec::Reader::new(&bytes).message().unwrap();
    // Only a MetaException (id 1) is declared.
    assert!(got.args.record(1).is_some());
    let m = Message {
        name: "get_config_value".into(),
        ..m
    };
    let bytes = reply(&m, Err(Fail::meta("x")));
    let got = codec::Reader::new(&bytes).message().unwrap();
    assert_eq!(got.kind, codec::EXCEPTION);
}
