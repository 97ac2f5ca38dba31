namespace Crisp.Server.Config;

/// <summary>A configuration error that names the file (or flag), the key and the reason; fails start.</summary>
public sealed class ConfigException(string message) : Exception(message);
