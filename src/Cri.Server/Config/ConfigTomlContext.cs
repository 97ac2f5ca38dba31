using Tomlyn.Model;
using Tomlyn.Serialization;

namespace Crisp.Server.Config;

/// <summary>
/// Source-generated TOML metadata: crispd.toml is read as an untyped <see cref="TomlTable"/> and
/// applied key by key (ConfigLoader), which needs no reflection and so stays valid in the native
/// AOT crispd.
/// </summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ConfigTomlContext : TomlSerializerContext;
