namespace Observer.Bench;

/// <summary>"--key value" pairs after the subcommand, with typed getters that fail in one clear line.</summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    public BenchArguments(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal)) throw new BenchException($"unexpected argument '{list[i]}'");
            var key = list[i][2..];
            var eq = key.IndexOf('=');
            if (eq >= 0) _values[key[..eq]] = key[(eq + 1)..];
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) _values[key] = list[++i];
            else _values[key] = "true";
        }
    }

    public string Text(string key, string? fallback = null) =>
        _values.TryGetValue(key, out var v) ? v : fallback ?? throw new BenchException($"--{key} is required");

    public int Number(string key, int fallback) =>
        !_values.TryGetValue(key, out var v) ? fallback : int.TryParse(v, out var n) ? n : throw new BenchException($"--{key} must be a whole number, not '{v}'");

    public bool Flag(string key) => _values.TryGetValue(key, out var v) && v != "false";

    /// <summary>An endpoint given as --{prefix}-host, -port, -user and -password or -password-file.</summary>
    public BenchEndpoint Endpoint(string prefix)
    {
        var password = _values.TryGetValue($"{prefix}-password-file", out var file) ? File.ReadAllLines(file)[0] : Text($"{prefix}-password");
        return new BenchEndpoint(Text($"{prefix}-host", "127.0.0.1"), Number($"{prefix}-port", 143), Text($"{prefix}-user"), password);
    }
}

internal sealed class BenchException(string message) : Exception(message);
