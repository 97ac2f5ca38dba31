namespace Crisp.Runtime.Network;

/// <summary>A CNI plugin that could not be found, could not run, or answered with an error.</summary>
public sealed class CniPluginException(string pluginType, string command, string message, Exception? inner = null)
    : Exception($"plugin type=\"{pluginType}\" failed ({command.ToLowerInvariant()}): {message}", inner)
{
    public string PluginType { get; } = pluginType;
    public string Command { get; } = command;
}
