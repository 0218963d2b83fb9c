@echo off
rem Installation hors réseau d'OncoSecours depuis le kit de secours.
rem N'utilise que les fichiers du kit : wheelhouse\, OncoSecours.xlsm, et crée python\ à côté.
setlocal
chcp 65001 >nul
set "KIT=%~dp0"
set "VENV=%KIT%python"

echo === OncoSecours : installation hors réseau ===
set "PY="
py -{PYVER} -c "import sys" >nul 2>nul && set "PY=py -{PYVER}"
if not defined PY (
  python -c "import sys; raise SystemExit(0 if sys.version_info[:2]==({PYMAJOR},{PYMINOR}) else 1)" >nul 2>nul && set "PY=python"
)
if not defined PY (
  echo ERREUR : Python {PYVER} pour Windows est introuvable sur ce poste.
  echo Installez Python {PYVER} pour Windows 64 bits (installeur officiel, à garder avec le kit^), puis relancez installer.bat.
  pause
  exit /b 1
)

if not exist "%VENV%\Scripts\python.exe" (
  echo Création de l'environnement Python dans "%VENV%" ...
  %PY% -m venv "%VENV%" || goto :echec
)

echo Installation des paquets depuis "%KIT%wheelhouse" (sans réseau) ...
"%VENV%\Scripts\python.exe" -m pip install --no-index --find-links "%KIT%wheelhouse" --upgrade "oncosecours[postgresql]" || goto :echec

echo Configuration du classeur (interpréteur Python dans xlwings.conf) ...
rem Chemin relatif au classeur (%ONCOSECOURS_DIR% = son dossier) : le kit reste valable si la lettre du lecteur change.
"%VENV%\Scripts\python.exe" -m oncosecours kit-configure --workbook "%KIT%OncoSecours.xlsm" || goto :echec

echo.
echo Installation terminée. Ouvrez OncoSecours.xlsm et activez les macros.
echo Si les macros sont bloquées, utilisez "%VENV%\Scripts\oncosecours.exe" (voir GUIDE-RAPIDE.txt).
pause
exit /b 0

:echec
echo.
echo ERREUR : l'installation a échoué (voir les messages ci-dessus). Rien n'a été modifié dans le classeur.
pause
exit /b 1
