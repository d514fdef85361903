namespace Observer.Imap;

/// <summary>Mailbox names on the wire: modified UTF-7, or plain UTF-8 once UTF8=ACCEPT is enabled (RFC 6855).</summary>
internal static class MailboxNameCodec
{
    public static string Encode(string name, bool utf8Enabled) => utf8Enabled ? name : ModifiedUtf7.Encode(name);

    public static string Decode(string wire, bool utf8Enabled)
    {
        if (utf8Enabled) return wire;
        // A server that sends raw 8-bit names without UTF8=ACCEPT is broken, but the name is still best read as UTF-8.
        return ModifiedUtf7.TryDecode(wire, out var name) ? name : wire;
    }
}
