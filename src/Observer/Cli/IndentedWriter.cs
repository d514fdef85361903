using System.Text;

namespace Observer.Cli;

/// <summary>Writes every line two spaces in, so each account's report sits under its name.</summary>
internal sealed class IndentedWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override void WriteLine(string? value) => inner.WriteLine("  " + value);

    public override Task WriteLineAsync(string? value) => inner.WriteLineAsync("  " + value);

    public override Task WriteLineAsync() => inner.WriteLineAsync();

    public override void Write(char value) => inner.Write(value);
}
