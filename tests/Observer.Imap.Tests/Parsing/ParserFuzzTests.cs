using System.Diagnostics;
using System.Text;
using NUnit.Framework;

namespace Observer.Imap.Tests;

/// <summary>
/// Seeded mutation of real responses. Every input must end in one of three ways: parsed, rejected
/// with <see cref="ImapProtocolException"/>, or waiting for bytes that never came
/// (<see cref="ImapConnectionException"/> at end of stream). Anything else is a parser bug.
/// </summary>
public class ParserFuzzTests
{
    private const int Cases = 100_000;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(90);

    private static readonly string[] Corpus =
    [
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n",
        "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996\" \"subj\" ((\"T\" NIL \"g\" \"c.edu\")) NIL NIL NIL NIL NIL NIL \"<id>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
        "* 1 FETCH (UID 4 MODSEQ (65402) FLAGS (\\Seen kw))\r\n",
        "* 2 FETCH (UID 9 BODY[] {14}\r\nSubject: x\r\n\r\n RFC822.SIZE 14)\r\n",
        "* 2 FETCH (UID 9 BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\nMessage-ID: <a@b>\r\n\r\n)\r\n",
        "* 3 FETCH (UID 1 BINARY[] ~{3}\r\na\0b)\r\n",
        "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n",
        "* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n",
        "* LIST () \".\" Box4 (\"OLDNAME\" (Box3))\r\n",
        "* LIST () \"/\" {7}\r\nweird\"x\r\n",
        "* LIST () \"/\" \"~peter/mail/&U,BTFw-/&ZeVnLIqe-\"\r\n",
        "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)\r\n",
        "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n",
        "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800 ALL 1:3,5\r\n",
        "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
        "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
        "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
        "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n",
        "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
        "d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n",
        "A1 NO [OVERQUOTA] Quota exceeded\r\n",
        "* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\"))\r\n",
        "* ENABLED CONDSTORE QRESYNC\r\n",
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
        "+ Ready for additional command text\r\n",
        "* 172 EXISTS\r\n* 3 EXPUNGE\r\n",
        "* BYE IMAP4rev1 Server logging out\r\n",
    ];

    private static readonly string[] Tokens =
    [
        "{", "}", "(", ")", "\"", "\\", "\r\n", "\n", "[", "]", " ", "NIL", "{5}\r\n", "{0}\r\n", "{99999999999}\r\n",
        "{18446744073709551616}\r\n", "~{3}\r\n", "*", "+", "0", "4294967296", "18446744073709551616", "\0", "\u00ff", "&", "-",
        "(((((((((((", ")))))))", "BODY[", "UID", "FETCH", "OK [", "\t",
    ];

    [Test]
    public void MutatedResponses_AreParsedOrRejectedNeverAnythingElse()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("OBSERVER_FUZZ_SEED"), out var s) ? s : 20261122;
        var outcome = new Dictionary<string, int> { ["parsed"] = 0, ["rejected"] = 0, ["incomplete"] = 0 };
        string? failure = null;
        var clock = Stopwatch.StartNew();

        var run = Task.Run(() =>
        {
            var random = new Random(seed);
            var limits = ImapLimits.Default with { MaxResponseTextLength = 64 * 1024, MaxLiteralSize = 1024 * 1024, MaxNestingDepth = 32 };
            for (var i = 0; i < Cases && failure is null; i++)
            {
                var input = Mutate(random, Encoding.UTF8.GetBytes(Corpus[random.Next(Corpus.Length)]));
                var result = RunOne(input, limits, random.Next(1, 64));
                if (result.StartsWith("bug", StringComparison.Ordinal))
                    failure = $"case {i} (seed {seed}): {result}\ninput: {Convert.ToBase64String(input)}";
                else
                    outcome[result]++;
            }
        });

        Assert.That(run.Wait(Budget), Is.True, $"fuzzing did not finish within {Budget.TotalSeconds} s: a parser loop may hang");
        Assert.That(failure, Is.Null);
        Assert.That(outcome.Values.Sum(), Is.EqualTo(Cases));
        // The mutations must reach every outcome, or the test exercises too little.
        Assert.That(outcome["parsed"], Is.GreaterThan(Cases / 20), string.Join(", ", outcome));
        Assert.That(outcome["rejected"], Is.GreaterThan(Cases / 20), string.Join(", ", outcome));
        Assert.That(outcome["incomplete"], Is.GreaterThan(Cases / 100), string.Join(", ", outcome));
        TestContext.Out.WriteLine($"{Cases} cases in {clock.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", outcome)}");
    }

    /// <summary>Reads and parses every frame in the input the way the connection does.</summary>
    private static string RunOne(byte[] input, ImapLimits limits, int chunk)
    {
        var reader = new ResponseFrameReader(new TrickleStream(input, chunk), limits, TempFileLiteralSpool.Default);
        var context = new ParseContext(limits, Utf8Enabled: false);
        var parsedAny = false;
        try
        {
            while (true)
            {
                using var frame = reader.ReadAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                (ResponseParser.Parse(frame, context) as IDisposable)?.Dispose();
                parsedAny = true;
            }
        }
        catch (ImapProtocolException)
        {
            return "rejected";
        }
        catch (ImapConnectionException)
        {
            // End of input: complete frames before it were parsed; an incomplete one waits for more bytes.
            return parsedAny && EndsCleanly(input) ? "parsed" : "incomplete";
        }
        catch (Exception ex)
        {
            return "bug: " + ex;
        }
    }

    private static bool EndsCleanly(byte[] input) => input.Length > 0 && input[^1] == (byte)'\n';

    private static byte[] Mutate(Random random, byte[] original)
    {
        var bytes = new List<byte>(original);
        var mutations = random.Next(0, 4);
        for (var m = 0; m < mutations && bytes.Count > 0; m++)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(Tokens[random.Next(Tokens.Length)]));
                    break;
                case 2:
                    bytes.RemoveRange(at, Math.Min(random.Next(1, 8), bytes.Count - at));
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    var length = Math.Min(random.Next(1, 16), bytes.Count - at);
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                default:
                    bytes[at] = (byte)"0123456789{}()\" \\[]"[random.Next(19)];
                    break;
            }
        }
        return bytes.ToArray();
    }
}
