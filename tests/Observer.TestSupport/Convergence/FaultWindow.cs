namespace Observer.TestSupport;

/// <summary>A fault and the time observer took to recover from it: from the fault until it worked again.</summary>
public sealed record FaultWindow(string Fault, DateTime Start, DateTime End)
{
    public TimeSpan Recovery => End - Start;

    public bool Overlaps(DateTime from, DateTime to) => Start <= to && End >= from;
}
