//! Fuzz the ICMP family: ICMPv4, ICMPv6 (with NDP and MLD), ND options, MLD
//! records and RFC 4884 / RFC 5837 extensions. Every input either fails with
//! a typed error or round-trips through its Repr.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::Ipv6Addr;
use via6_wire::icmp_ext::{emit_extension, extension_len, IcmpExtObject, IcmpExtension, InterfaceInfo};
use via6_wire::icmpv4::{Icmpv4Packet, Icmpv4Repr};
use via6_wire::icmpv6::{Icmpv6Packet, Icmpv6Repr};
use via6_wire::mld::{MldRecords, MldRepr};
use via6_wire::ndisc::NdiscRepr;
use via6_wire::ndisc_option::NdiscOption;

const SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const DST: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

fn v4(data: &[u8]) {
    let Ok(p) = Icmpv4Packet::new_checked(data) else { return };
    let Ok(repr) = Icmpv4Repr::parse(&p) else { return };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(&mut out).expect("buffer sized by buffer_len");
    let q = Icmpv4Packet::new_checked(&out[..]).expect("emitted header");
    assert_eq!(Icmpv4Repr::parse(&q).expect("emitted message parses"), repr);
    ext(match repr {
        Icmpv4Repr::DstUnreachable { extensions, .. }
        | Icmpv4Repr::TimeExceeded { extensions, .. }
        | Icmpv4Repr::ParamProblem { extensions, .. } => extensions,
        _ => None,
    });
}

fn v6(data: &[u8]) {
    // Make the checksum right so that the body parsers are reached.
    let mut buf = data.to_vec();
    let Ok(mut p) = Icmpv6Packet::new_checked(&mut buf[..]) else { return };
    p.fill_checksum(SRC, DST);
    let p = Icmpv6Packet::new_checked(&buf[..]).expect("checked above");
    let Ok(repr) = Icmpv6Repr::parse(&p, SRC, DST) else { return };
    let mut out = vec![0u8; repr.buffer_len()];
    repr.emit(SRC, DST, &mut out).expect("buffer sized by buffer_len");
    let q = Icmpv6Packet::new_checked(&out[..]).expect("emitted header");
    assert_eq!(Icmpv6Repr::parse(&q, SRC, DST).expect("emitted message parses"), repr);
    match repr {
        Icmpv6Repr::DstUnreachable { extensions, .. } | Icmpv6Repr::TimeExceeded { extensions, .. } => {
            ext(extensions)
        }
        Icmpv6Repr::Ndisc(n) => {
            for opt in n.options_iter() {
                let opt = opt.expect("validated at parse");
                let mut b = vec![0u8; opt.buffer_len()];
                let len = opt.emit(&mut b).expect("sized");
                assert_eq!(NdiscOption::parse(&b).expect("emitted option parses"), (opt, len));
            }
        }
        Icmpv6Repr::Mld(MldRepr::ReportV2 { records }) => {
            for r in MldRecords::new(records) {
                let r = r.expect("validated at parse");
                let mut b = vec![0u8; r.buffer_len()];
                r.emit(&mut b).expect("sized");
            }
        }
        _ => {}
    }
}

fn ext(raw: Option<&[u8]>) {
    let Some(raw) = raw else { return };
    let Ok(view) = IcmpExtension::new_checked(raw) else { return };
    let _ = view.verify_checksum();
    let objs: Vec<_> = view.objects().collect();
    let mut out = vec![0u8; extension_len(&objs)];
    emit_extension(&objs, &mut out).expect("sized");
    assert_eq!(&out[4..], &raw[4..]);
    for o in &objs {
        if let Ok(info) = InterfaceInfo::parse(o) {
            let mut b = vec![0u8; info.buffer_len()];
            info.emit(&mut b).expect("parsed names fit");
            // Reserved fields (RFC 5837 §4.2: zero on send, ignored on
            // receipt) are not kept, so compare the re-parsed object.
            let again = IcmpExtObject { class_num: b[2], c_type: b[3], payload: &b[4..] };
            assert_eq!(InterfaceInfo::parse(&again).expect("re-parses"), info);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    v4(data);
    v6(data);
    // The body parsers directly, without the checksum gate.
    if let Ok(n) = NdiscRepr::parse(data) {
        let mut out = vec![0u8; n.buffer_len()];
        n.emit(&mut out).expect("sized");
        assert_eq!(NdiscRepr::parse(&out).expect("re-parse"), n);
    }
    if let Ok(m) = MldRepr::parse(data) {
        let mut out = vec![0u8; m.buffer_len()];
        m.emit(&mut out).expect("sized");
        assert_eq!(MldRepr::parse(&out).expect("re-parse"), m);
    }
    ext(Some(data));
});
