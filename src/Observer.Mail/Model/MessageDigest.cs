namespace Observer.Mail;

/// <summary>A message's identity without its bytes: its UID, its size and the MD5 of its raw bytes.</summary>
public sealed record MessageDigest(uint Uid, long Length, byte[] Md5);
