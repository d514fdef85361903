namespace Observer.Replication;

/// <summary>How each copy is checked after it is appended to the replica.</summary>
public enum VerifyMode
{
    /// <summary>Fetch the copy back and compare the MD5 of its bytes.</summary>
    Full,

    /// <summary>Compare RFC822.SIZE only: cheaper, catches truncation but not substitution.</summary>
    Size,

    /// <summary>Trust APPEND's OK.</summary>
    None,
}
