using System.Text;

namespace Observer.Imap;

/// <summary>
/// One complete server response: the text of its lines joined without their CRLFs, and the
/// literals that followed each line ending in {n}. The parser only ever sees complete frames.
/// </summary>
internal sealed class ResponseFrame : IDisposable
{
    public ResponseFrame(byte[] text, ImapLiteral[] literals, int[] literalMarkerEnds)
    {
        Text = text;
        Literals = literals;
        LiteralMarkerEnds = literalMarkerEnds;
    }

    public byte[] Text { get; }

    public ImapLiteral[] Literals { get; }

    /// <summary>For each literal, the offset in <see cref="Text"/> just past its closing brace.</summary>
    public int[] LiteralMarkerEnds { get; }

    /// <summary>Literals the parser handed to a response object; those are no longer ours to dispose.</summary>
    public bool[]? Claimed { get; private set; }

    public void Claim(int literalIndex)
    {
        Claimed ??= new bool[Literals.Length];
        Claimed[literalIndex] = true;
    }

    /// <summary>The frame as a trace line: literal contents are summarised, never printed.</summary>
    public string ToTraceString()
    {
        if (Literals.Length == 0) return Encoding.UTF8.GetString(Text);
        var sb = new StringBuilder();
        var start = 0;
        for (var i = 0; i < Literals.Length; i++)
        {
            sb.Append(Encoding.UTF8.GetString(Text, start, LiteralMarkerEnds[i] - start));
            sb.Append($"<{Literals[i].Length} bytes>");
            start = LiteralMarkerEnds[i];
        }
        sb.Append(Encoding.UTF8.GetString(Text, start, Text.Length - start));
        return sb.ToString();
    }

    public void Dispose()
    {
        for (var i = 0; i < Literals.Length; i++)
            if (Claimed is null || !Claimed[i]) Literals[i].Dispose();
    }
}
