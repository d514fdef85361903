namespace Observer.Replication;

/// <summary>A number with its noun, singular for one: "1 folder", "3 folders". Logs and reports are read by people.</summary>
public static class Counted
{
    public static string Of(long count, string noun, string? plural = null) => count == 1 ? $"1 {noun}" : $"{count} {plural ?? noun + "s"}";
}
