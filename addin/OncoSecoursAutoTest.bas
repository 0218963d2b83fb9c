Attribute VB_Name = "OncoSecoursAutoTest"
' OncoSecours : l'autotest du classeur dans Excel (qualification opérationnelle du poste).
'
' Le bouton « Qualifier ce poste » (onAction="OncoSecoursQualifier") :
'   1. enregistre une COPIE D'ESSAI du classeur dans qualification\autotest\ (à côté du classeur),
'      avec les paramètres, requêtes et modèles du poste ; le registre de l'unité n'est jamais
'      touché : la copie travaille sur sa propre base d'essai (autotest.sqlite) et sa propre équipe ;
'   2. ouvre la copie et y joue chaque étape du circuit : Python saisit les données de l'étape
'      (q.prepare), puis le bouton du ruban est exécuté par Excel lui-même (RunPython, le chemin
'      réel d'un clic), puis Python relit les feuilles (q.check) et note conforme / non conforme ;
'   3. referme la copie et lance « qualifier » (IQ + OQ + résultats de l'autotest -> rapport).
' Si Excel ne peut pas lancer Python (règle ASR Defender, erreur 70), chaque étape est notée en
' échec avec le message d'Excel, et le rapport le dit : utiliser alors la commande
' « oncosecours qualification run » (guide rapide).
Option Explicit

Private Const TITRE As String = "OncoSecours — qualification"
Private Const PIN_AUTOTEST As String = "2468"
' Étapes jouées dans la copie d'essai, dans l'ordre ; doit rester égal à
' oncosecours.qualification.excel_autotest.STEPS (vérifié par les tests).
Private Const ETAPES As String = "actualiser|nouveau_patient|inclure|calculer|enregistrer|refuser|enregistrer|valider|feu_vert|preparer|preparer|jeter_reliquat|fiches|etiquettes|controler|liberer|dispenser|rapprochement|justifier_rupture|administrer|plan_de_soins|note|journal|verifier_integrite|facturation|reprise_chimio|pointer_reprise|archiver|clore_crise"
Private Const MODULE_PY As String = "import oncosecours.qualification.excel_autotest as q; "
Private Const DOSSIER_ESSAI As String = "qualification\autotest"

Private mErreur As String

' Le bouton « Qualifier ce poste » du ruban.
Public Sub OncoSecoursQualifier(control As IRibbonControl)
    If MsgBox("Qualifier ce poste : l'autotest joue le circuit complet dans une copie d'essai " & _
        "du classeur (quelques minutes, ne pas utiliser Excel pendant ce temps), puis le " & _
        "rapport de qualification est produit." & vbCrLf & vbCrLf & "Continuer ?", _
        vbOKCancel + vbQuestion, TITRE) <> vbOK Then Exit Sub
    OncoSecoursAutoTest
    OncoSecoursLancer "qualifier"
End Sub

' L'autotest seul (aussi depuis Alt+F8) : copie d'essai, étapes, résultats autotest-excel.json.
Public Sub OncoSecoursAutoTest()
    Dim dossier As String, copie As String, essai As Workbook
    dossier = ThisWorkbook.Path & "\" & DOSSIER_ESSAI
    CreerDossier ThisWorkbook.Path & "\qualification"
    CreerDossier dossier
    CopierReglages ThisWorkbook.Path, dossier
    copie = dossier & "\OncoSecours-essai.xlsm"
    On Error Resume Next
    Workbooks("OncoSecours-essai.xlsm").Close SaveChanges:=False
    Kill copie
    On Error GoTo 0
    ThisWorkbook.SaveCopyAs copie
    Application.StatusBar = "OncoSecours : autotest en cours dans la copie d'essai..."
    Set essai = Workbooks.Open(copie)
    Application.Run "'" & essai.Name & "'!OncoSecoursAutoTest.OncoSecoursAutoTestEtapes", _
        ThisWorkbook.Path
    essai.Close SaveChanges:=False
    Application.StatusBar = False
End Sub

' Joué DANS la copie d'essai (ThisWorkbook est la copie) ; dossierKit : le dossier du kit, où
' se trouve le Python du poste (xlwings.conf le désigne par %ONCOSECOURS_DIR%).
Public Sub OncoSecoursAutoTestEtapes(ByVal dossierKit As String)
    Dim liste() As String, i As Long, action As String
    liste = Split(ETAPES, "|")
    DefinirVariable "ONCOSECOURS_DIR", dossierKit
    If Not Python(MODULE_PY & "q.start()") Then
        MsgBox "L'autotest n'a pas pu démarrer Python (" & mErreur & ")." & vbCrLf & _
            "Utilisez la commande « oncosecours qualification run » (guide rapide).", _
            vbCritical, TITRE
        Exit Sub
    End If
    For i = 0 To UBound(liste)
        action = liste(i)
        Application.StatusBar = "OncoSecours : autotest, étape " & (i + 1) & " (" & action & ")"
        If Python(MODULE_PY & "q.prepare(" & (i + 1) & ", '" & action & "')") Then
            DefinirVariable "ONCOSECOURS_USER", UtilisateurDeLEtape()
            DefinirVariable "ONCOSECOURS_PIN", PIN_AUTOTEST
            If Python("import oncosecours.excel.ribbon as r; r.run('" & action & "')") Then
                Python MODULE_PY & "q.check(" & (i + 1) & ", '" & action & "')"
            Else
                Python MODULE_PY & "q.failed(" & (i + 1) & ", '" & action & "', '" & _
                    Replace(mErreur, "'", " ") & "')"
            End If
            EffacerVariable "ONCOSECOURS_PIN"
        End If
    Next i
    Python MODULE_PY & "q.finish('" & Application.Version & "')"
    Application.StatusBar = False
End Sub

' Macro de contrôle (tests automatiques, dépannage) : ne lance pas Python ; vérifie la liste des
' étapes et le dossier d'essai.
Public Function OncoSecoursAutoTestDiagnostic() As String
    Dim liste() As String
    liste = Split(ETAPES, "|")
    OncoSecoursAutoTestDiagnostic = "OncoSecours : autotest de " & (UBound(liste) + 1) & _
        " étapes, copie dans " & DOSSIER_ESSAI
End Function

Private Function Python(ByVal code As String) As Boolean
    On Error GoTo Echec
    RunPython code
    Python = True
    Exit Function
Echec:
    mErreur = Err.Description
    Python = False
End Function

Private Function UtilisateurDeLEtape() As String
    On Error Resume Next
    UtilisateurDeLEtape = UCase$(Trim$(CStr(ThisWorkbook.Worksheets("Accueil").Range("OS_Utilisateur").Value)))
    On Error GoTo 0
End Function

Private Sub CreerDossier(ByVal chemin As String)
    If Dir(chemin, vbDirectory) = "" Then MkDir chemin
End Sub

Private Sub CopierReglages(ByVal depuis As String, ByVal vers As String)
    ' Paramètres, requêtes et modèles du poste : la copie d'essai se comporte comme le poste.
    Dim fso As Object
    Set fso = CreateObject("Scripting.FileSystemObject")
    On Error Resume Next
    fso.CopyFile depuis & "\etablissement.toml", vers & "\etablissement.toml", True
    fso.CopyFolder depuis & "\queries", vers & "\queries", True
    fso.CopyFolder depuis & "\templates", vers & "\templates", True
    On Error GoTo 0
End Sub

Private Sub DefinirVariable(ByVal nom As String, ByVal valeur As String)
    Dim env As Object
    Set env = CreateObject("WScript.Shell").Environment("Process")
    env(nom) = valeur
End Sub

Private Sub EffacerVariable(ByVal nom As String)
    On Error Resume Next
    CreateObject("WScript.Shell").Environment("Process").Remove nom
    On Error GoTo 0
End Sub
