using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("OpenVision.Lab.Tests")]
