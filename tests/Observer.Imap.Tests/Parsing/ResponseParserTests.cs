using System.Text;
using NUnit.Framework;

namespace Observer.Imap.Tests;

/// <summary>Examples from RFC 3501, 9051, 4315, 7162 and 5465, and what real servers send.</summary>
public class ResponseParserTests
{
    [Test]
    public void Continuation_KeepsItsText()
    {
        Assert.That(Frames.Parse<ContinuationResponse>("+ Ready for additional command text").Text, Is.EqualTo("Ready for additional command text"));
    }

    [Test]
    public void Continuation_WithoutText_IsEmpty()
    {
        Assert.That(Frames.Parse<ContinuationResponse>("+").Text, Is.Empty);
    }

    [Test]
    public void Tagged_ReadWriteCode()
    {
        var r = Frames.Parse<TaggedResponse>("A142 OK [READ-WRITE] SELECT completed");
        Assert.That((r.Tag, r.Condition, r.Code!.Kind, r.Text), Is.EqualTo(("A142", ResponseCondition.Ok, ResponseCodeKind.ReadWrite, "SELECT completed")));
    }

    [Test]
    public void Tagged_NoWithTryCreate()
    {
        var r = Frames.Parse<TaggedResponse>("A003 NO [TRYCREATE] Mailbox doesn't exist: foo");
        Assert.That((r.Condition, r.Code!.Kind), Is.EqualTo((ResponseCondition.No, ResponseCodeKind.TryCreate)));
    }

    [Test]
    public void Tagged_AppendUid_RFC4315()
    {
        var code = (AppendUidCode)Frames.Parse<TaggedResponse>("A003 OK [APPENDUID 38505 3955] APPEND completed").Code!;
        Assert.That((code.UidValidity, code.Uids.ToString()), Is.EqualTo((38505u, "3955")));
    }

    [Test]
    public void Tagged_CopyUid_PairsSourceWithDestination()
    {
        var code = (CopyUidCode)Frames.Parse<TaggedResponse>("A004 OK [COPYUID 38505 304,319:320 3956:3958] Done").Code!;
        var result = new CopyResult(code.UidValidity, code.SourceUids, code.DestinationUids);
        Assert.That(result.Pairs(), Is.EqualTo(new[] { (304u, 3956u), (319u, 3957u), (320u, 3958u) }));
    }

    [Test]
    public void Tagged_CopyUidWithUnequalSets_IsRejected()
    {
        Assert.Throws<ImapProtocolException>(() => Frames.Parse("A004 OK [COPYUID 38505 304,319 3956] Done"));
    }

    [Test]
    public void Tagged_Modified_RFC7162()
    {
        var code = (ModifiedCode)Frames.Parse<TaggedResponse>("d105 OK [MODIFIED 7,9] Conditional STORE failed").Code!;
        Assert.That(code.Set.Expand(), Is.EqualTo(new uint[] { 7, 9 }));
    }

    [TestCase("* OK [UIDVALIDITY 3857529045] UIDs valid", ResponseCodeKind.UidValidity)]
    [TestCase("* OK [UIDNEXT 4392] Predicted next UID", ResponseCodeKind.UidNext)]
    [TestCase("* OK [UNSEEN 17] Message 17 is the first unseen message", ResponseCodeKind.Unseen)]
    [TestCase("* OK [HIGHESTMODSEQ 715194045007] Highest", ResponseCodeKind.HighestModSeq)]
    [TestCase("* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences", ResponseCodeKind.NoModSeq)]
    [TestCase("* OK [CLOSED] Previous mailbox is now closed", ResponseCodeKind.Closed)]
    [TestCase("* NO [ALERT] System shutdown in 10 minutes", ResponseCodeKind.Alert)]
    [TestCase("* NO [OVERQUOTA] Soft quota has been exceeded", ResponseCodeKind.OverQuota)]
    [TestCase("* OK [READ-ONLY] Sorry", ResponseCodeKind.ReadOnly)]
    [TestCase("A1 NO [ALREADYEXISTS] Mailbox already exists", ResponseCodeKind.AlreadyExists)]
    [TestCase("A1 NO [NONEXISTENT] Unknown Mailbox: Foo", ResponseCodeKind.NonExistent)]
    [TestCase("A1 NO [AUTHENTICATIONFAILED] Authentication failed.", ResponseCodeKind.AuthenticationFailed)]
    [TestCase("A1 NO [UNAVAILABLE] Temporary authentication failure.", ResponseCodeKind.Unavailable)]
    [TestCase("* OK [X-DOVECOT-SOMETHING 12 ab] odd", ResponseCodeKind.Other)]
    public void ResponseCode_IsTyped(string line, ResponseCodeKind kind)
    {
        var response = Frames.Parse(line);
        var code = response is TaggedResponse t ? t.Code : ((UntaggedConditionResponse)response).Code;
        Assert.That(code!.Kind, Is.EqualTo(kind));
    }

    [Test]
    public void ResponseCode_NumbersAreRead()
    {
        Assert.That(((UidValidityCode)Frames.Parse<UntaggedConditionResponse>("* OK [UIDVALIDITY 3857529045] UIDs valid").Code!).UidValidity, Is.EqualTo(3857529045u));
        Assert.That(((HighestModSeqCode)Frames.Parse<UntaggedConditionResponse>("* OK [HIGHESTMODSEQ 715194045007]").Code!).HighestModSeq, Is.EqualTo(715194045007ul));
    }

    [Test]
    public void PermanentFlags_WithWildcard()
    {
        var code = (PermanentFlagsCode)Frames.Parse<UntaggedConditionResponse>("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited").Code!;
        Assert.That(code.AllowsNewKeywords, Is.True);
        Assert.That(code.Flags.All, Is.EquivalentTo(new[] { "\\Deleted", "\\Seen" }));
    }

    [Test]
    public void Capability_InGreetingCode()
    {
        var code = (CapabilityCode)Frames.Parse<UntaggedConditionResponse>("* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=PLAIN] Dovecot ready.").Code!;
        Assert.That(code.Capabilities, Is.EqualTo(new[] { "IMAP4rev1", "SASL-IR", "LITERAL+", "AUTH=PLAIN" }));
    }

    [Test]
    public void Capability_Untagged()
    {
        var r = Frames.Parse<CapabilityResponse>("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED");
        Assert.That(new ImapCapabilities(r.Capabilities).LoginDisabled, Is.True);
    }

    [Test]
    public void Bye()
    {
        var r = Frames.Parse<UntaggedConditionResponse>("* BYE IMAP4rev1 Server logging out");
        Assert.That((r.Condition, r.Text), Is.EqualTo((ResponseCondition.Bye, "IMAP4rev1 Server logging out")));
    }

    [Test]
    public void ExistsRecentExpunge()
    {
        Assert.That(Frames.Parse<ExistsResponse>("* 172 EXISTS").Count, Is.EqualTo(172));
        Assert.That(Frames.Parse<RecentResponse>("* 1 RECENT").Count, Is.EqualTo(1));
        Assert.That(Frames.Parse<ExpungeResponse>("* 3 EXPUNGE").Sequence, Is.EqualTo(3));
    }

    [Test]
    public void Flags()
    {
        var r = Frames.Parse<FlagsResponse>("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
        Assert.That(r.Flags.Count, Is.EqualTo(5));
    }

    [Test]
    public void Fetch_Rfc3501ExampleWithEnvelopeAndBody_SkipsWhatItDoesNotModel()
    {
        const string line = "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 "
            + "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
            + "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            + "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) "
            + "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
            + "\"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))";
        using var r = Frames.Parse<FetchResponse>(line);
        Assert.That(r.Sequence, Is.EqualTo(12));
        Assert.That(r.Data.Flags!.Contains("\\Seen"), Is.True);
        Assert.That(r.Data.Size, Is.EqualTo(4286));
        Assert.That(r.Data.InternalDate, Is.EqualTo(new DateTimeOffset(1996, 7, 17, 2, 44, 25, TimeSpan.FromHours(-7))));
    }

    [Test]
    public void Fetch_ItemsInAnyOrder_GiveTheSameData()
    {
        using var a = Frames.Parse<FetchResponse>("* 1 FETCH (UID 4 MODSEQ (65402) FLAGS (\\Seen kw))");
        using var b = Frames.Parse<FetchResponse>("* 1 FETCH (FLAGS (\\Seen kw) UID 4 MODSEQ (65402))");
        using var c = Frames.Parse<FetchResponse>("* 1 FETCH (MODSEQ (65402) FLAGS (kw \\Seen) UID 4)");
        foreach (var r in new[] { a, b, c })
            Assert.That((r.Data.Uid, r.Data.ModSeq, r.Data.Flags), Is.EqualTo(((uint?)4, (ulong?)65402, new MessageFlags(["\\Seen", "kw"]))));
    }

    [Test]
    public void Fetch_BodyLiteral_IsKeptAsBytes()
    {
        using var r = Frames.Parse<FetchResponse>("* 2 FETCH (UID 9 BODY[] {14}\r\nSubject: x\r\n\r\n RFC822.SIZE 14)\r\n");
        Assert.That(Encoding.ASCII.GetString(r.Data.Body!.ToArray()), Is.EqualTo("Subject: x\r\n\r\n"));
        Assert.That(r.Data.Size, Is.EqualTo(14));
    }

    [Test]
    public void Fetch_BodyWithOrigin_IsTheBody()
    {
        using var r = Frames.Parse<FetchResponse>("* 2 FETCH (UID 9 BODY[]<0> \"abc\")");
        Assert.That(Encoding.ASCII.GetString(r.Data.Body!.ToArray()), Is.EqualTo("abc"));
    }

    [Test]
    public void Fetch_Binary_Literal8_RFC9051()
    {
        using var r = Frames.Parse<FetchResponse>("* 3 FETCH (UID 1 BINARY[] ~{3}\r\na\0b)\r\n");
        Assert.That(r.Data.Body!.ToArray(), Is.EqualTo(new byte[] { (byte)'a', 0, (byte)'b' }));
    }

    [Test]
    public void Fetch_HeaderFields()
    {
        using var r = Frames.Parse<FetchResponse>("* 2 FETCH (UID 9 BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n");
        Assert.That(Encoding.ASCII.GetString(r.Data.HeaderFields!), Is.EqualTo("Message-ID: <a@b>\r\n\r\n"));
        Assert.That(r.Data.Body, Is.Null);
    }

    [Test]
    public void Fetch_NilBody_IsEmpty()
    {
        using var r = Frames.Parse<FetchResponse>("* 2 FETCH (UID 9 BODY[] NIL)");
        Assert.That(r.Data.Body!.Length, Is.Zero);
    }

    [Test]
    public void Fetch_8BitQuotedAndEscapes()
    {
        using var r = Frames.Parse<FetchResponse>("* 2 FETCH (UID 9 BODY[] \"caf\u00e9 \\\"q\\\" \\\\\")");
        Assert.That(Encoding.UTF8.GetString(r.Data.Body!.ToArray()), Is.EqualTo("caf\u00e9 \"q\" \\"));
    }

    [Test]
    public void Fetch_UnknownItemsWithNestedListsAndLiterals_AreSkipped()
    {
        using var r = Frames.Parse<FetchResponse>("* 2 FETCH (X-GM-LABELS (\"a\" (b {1}\r\nc)) UID 7 BODYSTRUCTURE ((\"x\" NIL) NIL))\r\n");
        Assert.That(r.Data.Uid, Is.EqualTo(7));
    }

    [Test]
    public void Vanished_Earlier_RFC7162()
    {
        var r = Frames.Parse<VanishedResponse>("* VANISHED (EARLIER) 41,43:116,118,120:211,214:540");
        Assert.That(r.Earlier, Is.True);
        Assert.That(r.Uids.Count, Is.EqualTo(1 + 74 + 1 + 92 + 327));
    }

    [Test]
    public void Vanished_Live()
    {
        var r = Frames.Parse<VanishedResponse>("* VANISHED 405,407,410");
        Assert.That((r.Earlier, r.Uids.ToString()), Is.EqualTo((false, "405,407,410")));
    }

    [Test]
    public void List_Rfc3501Examples()
    {
        var a = Frames.Parse<ListResponse>("* LIST (\\Noselect) \"/\" ~/Mail/foo").Mailbox;
        Assert.That((a.Name, a.Delimiter, a.IsSelectable), Is.EqualTo(("~/Mail/foo", (char?)'/', false)));
        var b = Frames.Parse<ListResponse>("* LIST () \".\" #news.comp.mail.misc").Mailbox;
        Assert.That((b.Name, b.Delimiter), Is.EqualTo(("#news.comp.mail.misc", (char?)'.')));
        var c = Frames.Parse<ListResponse>("* LIST (\\Noselect) NIL \"\"").Mailbox;
        Assert.That((c.Name, c.Delimiter), Is.EqualTo(("", (char?)null)));
    }

    [Test]
    public void List_SubscribedAndSpecialUse()
    {
        var m = Frames.Parse<ListResponse>("* LIST (\\Subscribed \\Sent \\HasNoChildren) \".\" Sent").Mailbox;
        Assert.That((m.IsSubscribed, m.SpecialUse), Is.EqualTo((true, "\\Sent")));
    }

    [Test]
    public void List_OldName_RFC5465()
    {
        var m = Frames.Parse<ListResponse>("* LIST () \".\" Box4 (\"OLDNAME\" (Box3))").Mailbox;
        Assert.That((m.Name, m.OldName), Is.EqualTo(("Box4", "Box3")));
    }

    [Test]
    public void List_ChildInfoExtendedData_IsSkipped()
    {
        var m = Frames.Parse<ListResponse>("* LIST () \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))").Mailbox;
        Assert.That(m.Name, Is.EqualTo("Foo"));
    }

    [Test]
    public void List_ModifiedUtf7Name_IsDecoded()
    {
        Assert.That(Frames.Parse<ListResponse>("* LIST () \"/\" \"~peter/mail/&U,BTFw-/&ZeVnLIqe-\"").Mailbox.Name,
            Is.EqualTo("~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e"));
    }

    [Test]
    public void List_Utf8NameWhenUtf8Enabled_IsTakenAsIs()
    {
        Assert.That(Frames.Parse<ListResponse>("* LIST () \"/\" \"Caf\u00e9 &-\"", utf8: true).Mailbox.Name, Is.EqualTo("Caf\u00e9 &-"));
    }

    [Test]
    public void List_EscapedQuotesInName()
    {
        Assert.That(Frames.Parse<ListResponse>("* LIST () \"/\" \"a\\\"b\\\\c\"").Mailbox.Name, Is.EqualTo("a\"b\\c"));
    }

    [Test]
    public void List_NameAsLiteral()
    {
        Assert.That(Frames.Parse<ListResponse>("* LIST () \"/\" {7}\r\nweird\"x\r\n").Mailbox.Name, Is.EqualTo("weird\"x"));
    }

    [Test]
    public void Lsub()
    {
        var r = Frames.Parse<ListResponse>("* LSUB () \".\" #news.comp.mail.mime");
        Assert.That((r.IsLsub, r.Mailbox.Name), Is.EqualTo((true, "#news.comp.mail.mime")));
    }

    [Test]
    public void Status_Rfc3501AndCondstore()
    {
        var r = Frames.Parse<MailboxStatusResponse>("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)");
        Assert.That((r.Mailbox, r.Status.Messages, r.Status.UidNext, r.Status.HighestModSeq), Is.EqualTo(("blurdybloop", (uint?)231, (uint?)44292, (ulong?)7011231777)));
    }

    [Test]
    public void Status_NotifyPartial_RFC5465()
    {
        var r = Frames.Parse<MailboxStatusResponse>("* STATUS Box4 (HIGHESTMODSEQ 7)");
        Assert.That((r.Status.HighestModSeq, r.Status.Messages), Is.EqualTo(((ulong?)7, (uint?)null)));
    }

    [Test]
    public void Search_WithAndWithoutModSeq()
    {
        Assert.That(Frames.Parse<SearchResponse>("* SEARCH 2 84 882").Numbers, Is.EqualTo(new uint[] { 2, 84, 882 }));
        Assert.That(Frames.Parse<SearchResponse>("* SEARCH").Numbers, Is.Empty);
        var m = Frames.Parse<SearchResponse>("* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)");
        Assert.That((m.Numbers.Count, m.HighestModSeq), Is.EqualTo((10, (ulong?)917162500)));
    }

    [Test]
    public void ESearch_RFC9051()
    {
        var a = Frames.Parse<ESearchResponse>("* ESEARCH (TAG \"A282\") MIN 2 COUNT 3");
        Assert.That((a.Tag, a.IsUid, a.Min, a.Count), Is.EqualTo(("A282", false, (uint?)2, (uint?)3)));
        var b = Frames.Parse<ESearchResponse>("* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800");
        Assert.That((b.IsUid, b.Min, b.Max), Is.EqualTo((true, (uint?)7, (uint?)3800)));
        var c = Frames.Parse<ESearchResponse>("* ESEARCH (TAG \"A1\") UID ALL 1:3,5");
        Assert.That(c.All!.Expand(), Is.EqualTo(new uint[] { 1, 2, 3, 5 }));
    }

    [Test]
    public void Enabled()
    {
        Assert.That(Frames.Parse<EnabledResponse>("* ENABLED CONDSTORE QRESYNC").Capabilities, Is.EqualTo(new[] { "CONDSTORE", "QRESYNC" }));
    }

    [Test]
    public void Namespace()
    {
        var r = Frames.Parse<NamespaceResponse>("* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\"))");
        Assert.That((r.PersonalPrefix, r.PersonalDelimiter), Is.EqualTo(("", (char?)'/')));
    }

    [Test]
    public void UnknownUntagged_IsKeptNotRejected()
    {
        Assert.That(Frames.Parse<UnknownUntaggedResponse>("* XAPPLEPUSHSERVICE aps-version 2").Keyword, Is.EqualTo("XAPPLEPUSHSERVICE"));
    }

    [TestCase("* 0 EXPUNGE")]
    [TestCase("* 1 FETCH (UID abc)")]
    [TestCase("* 1 FETCH (UID 1")]
    [TestCase("* 1 FETCH (UID 99999999999)")]
    [TestCase("* 1 FETCH (INTERNALDATE \"yesterday\")")]
    [TestCase("* 1 FETCH (FLAGS (\\Seen) UID 1) trailing")]
    [TestCase("A1 MAYBE done")]
    [TestCase("A1 BYE not allowed tagged")]
    [TestCase("* LIST () \"/\" \"unterminated")]
    [TestCase("* LIST () \"//\" x")]
    [TestCase("* OK [UIDVALIDITY x] bad")]
    [TestCase("* OK [APPENDUID 1 0] bad")]
    [TestCase("* OK [HIGHESTMODSEQ 99999999999999999999999] bad")]
    [TestCase("* VANISHED (EARLIER) 1:x")]
    [TestCase("* STATUS box (MESSAGES")]
    [TestCase("* 1 FETCH (BODY[] {3})")]
    public void Malformed_IsRejectedWithProtocolException(string line)
    {
        Assert.Throws<ImapProtocolException>(() => Frames.Parse(line));
    }

    [Test]
    public void DeeplyNestedLists_AreRejected()
    {
        var line = "* 1 FETCH (X " + new string('(', 100) + new string(')', 100) + ")";
        Assert.Throws<ImapProtocolException>(() => Frames.Parse(line));
    }
}
