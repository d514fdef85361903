namespace Observer.Replication;

/// <summary>Whether to ask for COMPRESS=DEFLATE (RFC 4978) after login; only ever used where the server offers it.</summary>
public enum Compression
{
    /// <summary>On for remote hosts, where bandwidth costs more than the CPU; off on loopback, where it only costs.</summary>
    Auto,

    On,

    Off,
}
