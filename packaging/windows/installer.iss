; Inno Setup script: wraps dist\ValueSpectrumStudio (from packaging/build.sh) in a per-user installer.
#define AppVersion GetEnv("VSPECTRUM_VERSION")
[Setup]
AppName=Value-Spectrum Studio
AppVersion={#AppVersion}
DefaultDirName={localappdata}\Programs\Value-Spectrum Studio
PrivilegesRequired=lowest
OutputBaseFilename=ValueSpectrumStudio-{#AppVersion}-windows-setup
OutputDir=..\..\dist
Compression=lzma2
SolidCompression=yes
[Files]
Source: "..\..\dist\ValueSpectrumStudio\*"; DestDir: "{app}"; Flags: recursesubdirs
[Icons]
Name: "{userprograms}\Value-Spectrum Studio"; Filename: "{app}\vspectrum-studio.exe"
Name: "{userdesktop}\Value-Spectrum Studio"; Filename: "{app}\vspectrum-studio.exe"; Tasks: desktopicon
[Tasks]
Name: desktopicon; Description: "Create a desktop shortcut"
