//! The 8-octet header every ICMPv4 (RFC 792) and ICMPv6 (RFC 4443 §2.1)
//! message starts with — type, code, checksum, 32-bit rest-of-header, which
//! echo messages split into identifier and sequence number. One macro gives
//! both views the same accessors; each family adds its own checksum rules.

/// Defines a checked ICMP view `$name` over an 8-octet-or-longer buffer.
macro_rules! icmp_header_view {
    ($name:ident, $doc:expr) => {
        #[doc = $doc]
        #[derive(Debug, Clone)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer`, checking it holds the 8-octet header.
            pub fn new_checked(buffer: T) -> Result<Self> {
                if buffer.as_ref().len() < HEADER_LEN {
                    return Err(Error::Truncated);
                }
                Ok($name { buffer })
            }

            /// The message type.
            pub fn msg_type(&self) -> u8 {
                self.buffer.as_ref()[0]
            }

            /// The code.
            pub fn msg_code(&self) -> u8 {
                self.buffer.as_ref()[1]
            }

            /// The checksum field.
            pub fn checksum(&self) -> u16 {
                read_u16(self.buffer.as_ref(), 2)
            }

            /// The 32-bit rest-of-header (octets 4..8).
            pub fn rest_of_header(&self) -> u32 {
                read_u32(self.buffer.as_ref(), 4)
            }

            /// Echo identifier (octets 4..6).
            pub fn echo_ident(&self) -> u16 {
                read_u16(self.buffer.as_ref(), 4)
            }

            /// Echo sequence number (octets 6..8).
            pub fn echo_seq_no(&self) -> u16 {
                read_u16(self.buffer.as_ref(), 6)
            }

            /// Everything after the 8-octet header.
            pub fn payload(&self) -> &[u8] {
                &self.buffer.as_ref()[HEADER_LEN..]
            }

            /// The underlying buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $name<T> {
            /// Sets the type.
            pub fn set_msg_type(&mut self, v: u8) {
                self.buffer.as_mut()[0] = v;
            }

            /// Sets the code.
            pub fn set_msg_code(&mut self, v: u8) {
                self.buffer.as_mut()[1] = v;
            }

            /// Sets the checksum field.
            pub fn set_checksum(&mut self, v: u16) {
                write_u16(self.buffer.as_mut(), 2, v);
            }

            /// Sets octets 4..8.
            pub fn set_rest_of_header(&mut self, v: u32) {
                write_u32(self.buffer.as_mut(), 4, v);
            }

            /// Sets the echo identifier.
            pub fn set_echo_ident(&mut self, v: u16) {
                write_u16(self.buffer.as_mut(), 4, v);
            }

            /// Sets the echo sequence number.
            pub fn set_echo_seq_no(&mut self, v: u16) {
                write_u16(self.buffer.as_mut(), 6, v);
            }

            /// The payload, mutably.
            pub fn payload_mut(&mut self) -> &mut [u8] {
                &mut self.buffer.as_mut()[HEADER_LEN..]
            }
        }
    };
}

pub(crate) use icmp_header_view;
