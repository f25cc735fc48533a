//! The DNS message format (RFC 1035) as far as the embedded server needs it: parse a query's
//! header and question (following compression pointers safely), and build replies with A and
//! PTR answers. Everything else is relayed to upstream resolvers byte for byte, so no other
//! record type is modelled.

use std::net::Ipv4Addr;

/// Size of the fixed header.
pub(crate) const HEADER_LEN: usize = 12;
/// Largest reply over UDP for a client that did not advertise more (RFC 1035 §4.2.1).
pub(crate) const UDP_LIMIT: usize = 512;

pub(crate) const TYPE_A: u16 = 1;
pub(crate) const TYPE_PTR: u16 = 12;
pub(crate) const TYPE_AAAA: u16 = 28;
pub(crate) const TYPE_OPT: u16 = 41;
pub(crate) const CLASS_IN: u16 = 1;

pub(crate) const RCODE_NOERROR: u8 = 0;
pub(crate) const RCODE_FORMERR: u8 = 1;
pub(crate) const RCODE_SERVFAIL: u8 = 2;

const FLAG_QR: u16 = 0x8000;
const FLAG_TC: u16 = 0x0200;
const FLAG_RD: u16 = 0x0100;
const FLAG_RA: u16 = 0x0080;
const OPCODE_MASK: u16 = 0x7800;

/// Longest name on the wire (RFC 1035 §3.1).
const MAX_NAME: usize = 255;
/// Compression pointers followed before a name is declared a loop.
const MAX_JUMPS: usize = 64;

/// Why a packet could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum WireError {
    /// The packet ends inside a field.
    #[error("dns message truncated at offset {0}")]
    Truncated(usize),
    /// A label length byte with the reserved 0b01/0b10 prefix.
    #[error("dns bad label type at offset {0}")]
    LabelType(usize),
    /// A compression pointer that does not point backwards, or too many of them.
    #[error("dns bad compression pointer at offset {0}")]
    Pointer(usize),
    /// A name longer than 255 bytes.
    #[error("dns name too long at offset {0}")]
    NameTooLong(usize),
    /// A response, or a query with no question.
    #[error("dns message is not a query with one question")]
    NotAQuery,
    /// A label that cannot be written (empty or longer than 63 bytes).
    #[error("dns label too long or empty in {0:?}")]
    BadLabel(String),
}

/// A query's question, with its name both as raw labels (to echo back exactly) and as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Question {
    pub labels: Vec<Vec<u8>>,
    pub qtype: u16,
    pub qclass: u16,
}

impl Question {
    /// The name, lowercased, dot-separated, no trailing dot (the root is "").
    pub fn name(&self) -> String {
        let parts: Vec<String> = self
            .labels
            .iter()
            .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
            .collect();
        parts.join(".")
    }
}

/// A parsed query: the header fields a reply needs and the first question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Query {
    pub id: u16,
    pub flags: u16,
    pub question: Question,
    /// The UDP payload size the client advertised in an OPT record, if any.
    pub udp_size: Option<u16>,
}

impl Query {
    /// The largest reply this client takes over UDP.
    pub fn udp_limit(&self) -> usize {
        self.udp_size
            .map_or(UDP_LIMIT, |s| usize::from(s).clamp(UDP_LIMIT, 4096))
    }
}

/// An answer record the server produces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    A(Ipv4Addr),
    Ptr(String),
}

fn read_u16(buf: &[u8], at: usize) -> Result<u16, WireError> {
    match buf.get(at..at + 2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(WireError::Truncated(at)),
    }
}

/// Reads the name at `start`, following compression pointers. Returns the labels and the
/// offset just after the name as it sits at `start`.
pub(crate) fn read_name(buf: &[u8], start: usize) -> Result<(Vec<Vec<u8>>, usize), WireError> {
    let mut labels = Vec::new();
    let mut pos = start;
    let mut end = None;
    let mut total = 1;
    let mut jumps = 0;
    // Pointers must go strictly backwards from the label that holds them: no loops.
    let mut floor = start;
    loop {
        let len = *buf.get(pos).ok_or(WireError::Truncated(pos))?;
        match len & 0xC0 {
            0x00 => {
                if len == 0 {
                    return Ok((labels, end.unwrap_or(pos + 1)));
                }
                let len = usize::from(len);
                let label = buf
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(WireError::Truncated(pos + 1))?;
                total += len + 1;
                if total > MAX_NAME {
                    return Err(WireError::NameTooLong(start));
                }
                labels.push(label.to_vec());
                pos += 1 + len;
            }
            0xC0 => {
                let target = usize::from(read_u16(buf, pos)? & 0x3FFF);
                jumps += 1;
                if target >= floor || jumps > MAX_JUMPS {
                    return Err(WireError::Pointer(pos));
                }
                end.get_or_insert(pos + 2);
                floor = target;
                pos = target;
            }
            _ => return Err(WireError::LabelType(pos)),
        }
    }
}

/// Offset just after a resource record starting at `at`, with its type and class field.
fn skip_record(buf: &[u8], at: usize) -> Result<(usize, u16, u16), WireError> {
    let (_, pos) = read_name(buf, at)?;
    let rtype = read_u16(buf, pos)?;
    let class = read_u16(buf, pos + 2)?;
    let rdlen = usize::from(read_u16(buf, pos + 8)?);
    let end = pos + 10 + rdlen;
    if end > buf.len() {
        return Err(WireError::Truncated(pos + 10));
    }
    Ok((end, rtype, class))
}

/// Parses a query: header, first question, and the EDNS payload size if an OPT record is in
/// the additional section. Responses, non-QUERY opcodes and question counts other than one
/// are [`WireError::NotAQuery`].
pub(crate) fn parse_query(buf: &[u8]) -> Result<Query, WireError> {
    if buf.len() < HEADER_LEN {
        return Err(WireError::Truncated(buf.len()));
    }
    let id = read_u16(buf, 0)?;
    let flags = read_u16(buf, 2)?;
    let qdcount = read_u16(buf, 4)?;
    let counts = [read_u16(buf, 6)?, read_u16(buf, 8)?, read_u16(buf, 10)?];
    if flags & FLAG_QR != 0 || flags & OPCODE_MASK != 0 || qdcount != 1 {
        return Err(WireError::NotAQuery);
    }
    let (labels, pos) = read_name(buf, HEADER_LEN)?;
    let qtype = read_u16(buf, pos)?;
    let qclass = read_u16(buf, pos + 2)?;
    let mut pos = pos + 4;
    let mut udp_size = None;
    for (section, count) in counts.iter().enumerate() {
        for _ in 0..*count {
            let (next, rtype, class) = skip_record(buf, pos)?;
            if section == 2 && rtype == TYPE_OPT {
                udp_size = Some(class);
            }
            pos = next;
        }
    }
    Ok(Query {
        id,
        flags,
        question: Question {
            labels,
            qtype,
            qclass,
        },
        udp_size,
    })
}

/// Encodes a dotted name (trailing dot optional) as uncompressed labels.
fn push_name(out: &mut Vec<u8>, name: &str) -> Result<(), WireError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let start = out.len();
    if !name.is_empty() {
        for label in name.split('.') {
            let len = u8::try_from(label.len())
                .ok()
                .filter(|l| (1..=63).contains(l))
                .ok_or_else(|| WireError::BadLabel(name.to_string()))?;
            out.push(len);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() - start > MAX_NAME {
        return Err(WireError::BadLabel(name.to_string()));
    }
    Ok(())
}

/// Builds a reply to `query`: the question echoed, `answers` owned by the question's name
/// (compressed as a pointer to offset 12) with `ttl`. When the reply would exceed `limit`,
/// answers are dropped and TC is set, as RFC 2181 §9 asks.
pub(crate) fn build_reply(
    query: &Query,
    rcode: u8,
    answers: &[Answer],
    ttl: u32,
    limit: usize,
) -> Result<Vec<u8>, WireError> {
    let mut body = Vec::with_capacity(128);
    let mut flags = FLAG_QR | FLAG_RA | (query.flags & FLAG_RD) | u16::from(rcode & 0x0F);
    for answer in answers {
        body.extend_from_slice(&[0xC0, 0x0C]);
        match answer {
            Answer::A(ip) => {
                body.extend_from_slice(&TYPE_A.to_be_bytes());
                body.extend_from_slice(&CLASS_IN.to_be_bytes());
                body.extend_from_slice(&ttl.to_be_bytes());
                body.extend_from_slice(&4u16.to_be_bytes());
                body.extend_from_slice(&ip.octets());
            }
            Answer::Ptr(name) => {
                let mut rdata = Vec::new();
                push_name(&mut rdata, name)?;
                body.extend_from_slice(&TYPE_PTR.to_be_bytes());
                body.extend_from_slice(&CLASS_IN.to_be_bytes());
                body.extend_from_slice(&ttl.to_be_bytes());
                let rdlen = u16::try_from(rdata.len())
                    .map_err(|_| WireError::BadLabel(name.to_string()))?;
                body.extend_from_slice(&rdlen.to_be_bytes());
                body.extend_from_slice(&rdata);
            }
        }
    }
    let mut out = Vec::with_capacity(HEADER_LEN + 64 + body.len());
    let mut ancount = u16::try_from(answers.len()).unwrap_or(u16::MAX);
    let mut qsection = Vec::new();
    for label in &query.question.labels {
        qsection.push(label.len() as u8);
        qsection.extend_from_slice(label);
    }
    qsection.push(0);
    qsection.extend_from_slice(&query.question.qtype.to_be_bytes());
    qsection.extend_from_slice(&query.question.qclass.to_be_bytes());
    if HEADER_LEN + qsection.len() + body.len() > limit {
        flags |= FLAG_TC;
        ancount = 0;
        body.clear();
    }
    out.extend_from_slice(&query.id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&ancount.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&qsection);
    out.extend_from_slice(&body);
    Ok(out)
}

/// A header-only reply with `rcode` for a packet that could not be parsed, if it is at least
/// long enough to carry an id (FORMERR over TCP).
pub(crate) fn bare_reply(buf: &[u8], rcode: u8) -> Option<Vec<u8>> {
    let id = buf.get(0..2)?;
    let rd = buf.get(2).map_or(0, |b| b & 0x01);
    let mut out = vec![0; HEADER_LEN];
    out[0..2].copy_from_slice(id);
    out[2] = 0x80 | rd;
    out[3] = 0x80 | (rcode & 0x0F);
    Some(out)
}

/// Parses `d.c.b.a.in-addr.arpa` into `a.b.c.d`.
pub(crate) fn ptr_ipv4(name: &str) -> Option<Ipv4Addr> {
    let rest = name.strip_suffix(".in-addr.arpa")?;
    let parts: Vec<&str> = rest.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, part) in parts.iter().rev().enumerate() {
        if part.is_empty() || (part.len() > 1 && part.starts_with('0')) {
            return None;
        }
        octets[i] = part.parse().ok()?;
    }
    Some(Ipv4Addr::from(octets))
}

/// Builds a query (used by tests and by nothing on the serving path).
#[cfg(test)]
pub(crate) fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&FLAG_RD.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    push_name(&mut out, name).expect("valid name");
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// A reply as tests read it: rcode, flags and the answer records' (type, rdata as text).
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Reply {
    pub id: u16,
    pub flags: u16,
    pub rcode: u8,
    pub answers: Vec<(u16, u32, String)>,
}

#[cfg(test)]
pub(crate) fn parse_reply(buf: &[u8]) -> Result<Reply, WireError> {
    let id = read_u16(buf, 0)?;
    let flags = read_u16(buf, 2)?;
    let qd = read_u16(buf, 4)?;
    let an = read_u16(buf, 6)?;
    let mut pos = HEADER_LEN;
    for _ in 0..qd {
        let (_, next) = read_name(buf, pos)?;
        pos = next + 4;
    }
    let mut answers = Vec::new();
    for _ in 0..an {
        let (_, p) = read_name(buf, pos)?;
        let rtype = read_u16(buf, p)?;
        let ttl = u32::from(read_u16(buf, p + 4)?) << 16 | u32::from(read_u16(buf, p + 6)?);
        let rdlen = usize::from(read_u16(buf, p + 8)?);
        let rdata = buf
            .get(p + 10..p + 10 + rdlen)
            .ok_or(WireError::Truncated(p + 10))?;
        let text = match rtype {
            TYPE_A if rdlen == 4 => {
                Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]).to_string()
            }
            TYPE_PTR => {
                let (labels, _) = read_name(buf, p + 10)?;
                labels
                    .iter()
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect::<Vec<_>>()
                    .join(".")
            }
            _ => format!("{rdata:?}"),
        };
        answers.push((rtype, ttl, text));
        pos = p + 10 + rdlen;
    }
    Ok(Reply {
        id,
        flags,
        rcode: (flags & 0x0F) as u8,
        answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `dig +cookie web A` as captured: RD and AD set, one question, an OPT record with a
    /// 1232-byte payload and a client cookie.
    const DIG_QUERY: &[u8] = &[
        0x8a, 0x1e, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // header
        0x03, b'W', b'e', b'b', 0x00, 0x00, 0x01, 0x00, 0x01, // Web A IN
        0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, // OPT, rdlen 12
        0x00, 0x0a, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, // COOKIE option
    ];

    #[test]
    fn parses_dig_query() {
        let q = parse_query(DIG_QUERY).unwrap();
        assert_eq!(q.id, 0x8a1e);
        assert_eq!(q.question.name(), "web");
        assert_eq!(q.question.labels, vec![b"Web".to_vec()]);
        assert_eq!(q.question.qtype, TYPE_A);
        assert_eq!(q.question.qclass, CLASS_IN);
        assert_eq!(q.udp_size, Some(1232));
        assert_eq!(q.udp_limit(), 1232);
    }

    #[test]
    fn round_trip_a_reply() {
        let q = parse_query(&build_query(7, "db.Example.", TYPE_A)).unwrap();
        assert_eq!(q.question.name(), "db.example");
        let ips = [
            Answer::A(Ipv4Addr::new(10, 0, 0, 2)),
            Answer::A(Ipv4Addr::new(10, 0, 0, 3)),
        ];
        let reply = build_reply(&q, RCODE_NOERROR, &ips, 600, UDP_LIMIT).unwrap();
        let r = parse_reply(&reply).unwrap();
        assert_eq!(r.id, 7);
        assert_eq!(r.rcode, 0);
        assert_ne!(r.flags & FLAG_QR, 0);
        assert_ne!(r.flags & FLAG_RD, 0);
        assert_eq!(
            r.answers,
            vec![
                (TYPE_A, 600, "10.0.0.2".into()),
                (TYPE_A, 600, "10.0.0.3".into())
            ]
        );
        // The echoed question keeps the client's spelling.
        assert_eq!(&reply[12..16], b"\x02db\x07");
        assert_eq!(&reply[16..23], b"Example");
    }

    #[test]
    fn round_trip_ptr_reply() {
        let q = parse_query(&build_query(9, "2.0.18.172.in-addr.arpa", TYPE_PTR)).unwrap();
        assert_eq!(
            ptr_ipv4(&q.question.name()),
            Some(Ipv4Addr::new(172, 18, 0, 2))
        );
        let reply = build_reply(
            &q,
            RCODE_NOERROR,
            &[Answer::Ptr("web.net.".into())],
            600,
            512,
        )
        .unwrap();
        let r = parse_reply(&reply).unwrap();
        assert_eq!(r.answers, vec![(TYPE_PTR, 600, "web.net".into())]);
    }

    #[test]
    fn ptr_names() {
        assert_eq!(
            ptr_ipv4("1.0.0.10.in-addr.arpa"),
            Some(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert_eq!(ptr_ipv4("0.10.in-addr.arpa"), None);
        assert_eq!(ptr_ipv4("01.0.0.10.in-addr.arpa"), None);
        assert_eq!(ptr_ipv4("256.0.0.10.in-addr.arpa"), None);
        assert_eq!(ptr_ipv4("1.0.0.10.ip6.arpa"), None);
    }

    #[test]
    fn truncates_big_replies() {
        let q = parse_query(&build_query(1, "many", TYPE_A)).unwrap();
        let ips: Vec<Answer> = (0..40)
            .map(|i| Answer::A(Ipv4Addr::new(10, 0, 0, i)))
            .collect();
        let reply = build_reply(&q, RCODE_NOERROR, &ips, 600, UDP_LIMIT).unwrap();
        let r = parse_reply(&reply).unwrap();
        assert_ne!(r.flags & FLAG_TC, 0);
        assert!(r.answers.is_empty());
        let reply = build_reply(&q, RCODE_NOERROR, &ips, 600, 65535).unwrap();
        assert_eq!(parse_reply(&reply).unwrap().answers.len(), 40);
    }

    #[test]
    fn follows_compression_pointers() {
        // "example.com" at 12, then "www" + pointer to 12 at 25, then a pointer to 25.
        let mut buf = vec![0u8; 12];
        buf.extend_from_slice(b"\x07example\x03com\x00");
        let www = buf.len();
        buf.extend_from_slice(b"\x03www\xc0\x0c");
        let alias = buf.len();
        buf.extend_from_slice(&[0xC0, www as u8]);
        let (labels, end) = read_name(&buf, www).unwrap();
        assert_eq!(
            labels,
            vec![b"www".to_vec(), b"example".to_vec(), b"com".to_vec()]
        );
        assert_eq!(end, www + 6);
        let (labels, end) = read_name(&buf, alias).unwrap();
        assert_eq!(labels.len(), 3);
        assert_eq!(end, alias + 2);
    }

    #[test]
    fn rejects_pointer_loops_and_forward_pointers() {
        let mut buf = vec![0u8; 12];
        buf.extend_from_slice(&[0xC0, 12]); // points at itself
        assert_eq!(read_name(&buf, 12), Err(WireError::Pointer(12)));
        let mut buf = vec![0u8; 12];
        buf.extend_from_slice(&[0xC0, 20, 0, 0, 0, 0, 0, 0, 0]); // forwards
        assert!(read_name(&buf, 12).is_err());
        // a -> b -> a through two pointers
        let mut buf = vec![0u8; 12];
        buf.extend_from_slice(&[0x01, b'a', 0xC0, 16, 0x01, b'b', 0xC0, 12]);
        assert!(read_name(&buf, 16).is_err());
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_query(&[]).is_err());
        assert!(parse_query(&DIG_QUERY[..5]).is_err());
        assert!(parse_query(&DIG_QUERY[..15]).is_err());
        assert!(parse_query(&DIG_QUERY[..DIG_QUERY.len() - 1]).is_err());
        // Reserved label type.
        let mut bad = DIG_QUERY.to_vec();
        bad[12] = 0x43;
        assert_eq!(parse_query(&bad), Err(WireError::LabelType(12)));
        // A response is not a query.
        let mut resp = DIG_QUERY.to_vec();
        resp[2] |= 0x80;
        assert_eq!(parse_query(&resp), Err(WireError::NotAQuery));
        // Name over 255 bytes.
        let mut long = vec![0u8; 12];
        long[5] = 1;
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert_eq!(parse_query(&long), Err(WireError::NameTooLong(12)));
        // Every prefix and pseudo-random bytes never panic.
        for n in 0..DIG_QUERY.len() {
            let _ = parse_query(&DIG_QUERY[..n]);
        }
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut pkt = DIG_QUERY.to_vec();
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let at = (seed >> 8) as usize % pkt.len();
            pkt[at] = (seed >> 16) as u8;
            let _ = parse_query(&pkt);
        }
    }

    #[test]
    fn formerr_for_unparsable() {
        let r = bare_reply(&[0xAB, 0xCD, 0x01], RCODE_FORMERR).unwrap();
        assert_eq!(r, vec![0xAB, 0xCD, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(bare_reply(&[1], RCODE_FORMERR).is_none());
    }
}
